#!/usr/bin/env python3
"""Checks the web console (dispatcher/console/assets) in headless Chromium against a live dispatcher.

Usage: tests/console/console_check.py --url BASE --screenshots DIR [--api-key KEY]
           [--kill-pid PID --kill-worker ID] [--slow-image PATH] [--small-image PATH] [--heartbeat-timeout-s S]

Without --api-key: the pool shows its workers ready; an image dropped on the page succeeds and opens in the
before/after compare; a slow one is cancelled from its row; a file named like HTML shows as text; a killed worker
(--kill-pid) turns "gone"; the page fits a 375 px phone. With --api-key: only the login form shows until the right
key is given. Both: the page's static files carry the right types and Content-Security-Policy.
Prints one line per check passed; exits 1 (saying what failed) when any fails. Needs python3-selenium, chromium
and chromium-driver (scripts/setup).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 30
PAGE_SIZE = 25  # jobs a page of the console shows (js/jobs.js)
PAGE_JOBS = 30  # jobs check_pages posts: more than a page
GONE_MARGIN_S = 2.5  # a killed worker shows gone within the heartbeat timeout and this
# Drops a file (arguments: the drop zone, the file's bytes in base64, its name) as a drag from the desktop does:
# dragenter, dragover and drop events whose DataTransfer holds the file.
DROP_FILE = """
const [zone, data, name] = arguments;
const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], name, {type: 'image/png'}));
for (const type of ['dragenter', 'dragover', 'drop']) {
  zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
}
"""
HTML_NAME = '<img src=x onerror=alert(1)>.png'


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def css(test, **attrs):
    """A CSS selector for data-test=`test` and data-* attributes (worker_id -> data-worker-id)."""
    extra = ''.join('[data-%s="%s"]' % (name.replace('_', '-'), value) for name, value in attrs.items())
    return '[data-test="%s"]%s' % (test, extra)


class Http:
    """Plain requests to the dispatcher (not through the browser)."""

    def __init__(self, base, api_key):
        self.base = base.rstrip('/')
        self.api_key = api_key

    def get(self, path, with_key=True):
        """(status, headers, body) of GET path; an HTTP error status is returned, not raised."""
        request = urllib.request.Request(self.base + path)
        if with_key and self.api_key:
            request.add_header('Authorization', 'Bearer ' + self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def post_image(self, path, name):
        """POST /jobs with the file at `path` as multipart field `file` named `name`; the new job's id."""
        boundary = 'console-check-boundary'
        with open(path, 'rb') as f:
            body = (('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
                     'Content-Type: image/png\r\n\r\n' % (boundary, name)).encode() + f.read() +
                    ('\r\n--%s--\r\n' % boundary).encode())
        request = urllib.request.Request(self.base + '/jobs', data=body, method='POST')
        request.add_header('Content-Type', 'multipart/form-data; boundary=' + boundary)
        if self.api_key:
            request.add_header('Authorization', 'Bearer ' + self.api_key)
        with urllib.request.urlopen(request, timeout=10) as response:
            expect(response.status == 202, 'POST /jobs answered %d' % response.status)
            return json.loads(response.read())['id']

    def json(self, path):
        status, _, body = self.get(path)
        expect(status == 200, 'GET %s answered %d' % (path, status))
        return json.loads(body)


class ConsoleCheck:
    def __init__(self, args):
        self.args = args
        self.http = Http(args.url, args.api_key)
        self.failures = []
        os.makedirs(args.screenshots, exist_ok=True)
        self.driver = start_browser()

    # ---- running and reporting -------------------------------------------------------------------------------

    def run(self):
        try:
            self.step('static files have their types and a strict Content-Security-Policy', self.check_static_files)
            if self.args.api_key:
                self.run_with_key()
            else:
                self.run_without_key()
        finally:
            self.driver.quit()
        for failure in self.failures:
            print('FAILED: ' + failure)
        return 1 if self.failures else 0

    def step(self, name, action, allowed_log=None):
        """Runs one check and then reads the browser's console; a failure is recorded and the next checks run."""
        problems = []
        try:
            action()
        except CheckFailed as error:
            problems.append(str(error))
        except Exception:  # noqa: BLE001: a fault of the check itself (or of Selenium), reported with its trace
            problems.append(traceback.format_exc())
        problems += self.browser_log_problems(allowed_log)
        if problems:
            self.failures.append('%s: %s' % (name, '; '.join(problems)))
            return False
        print('ok: ' + name, flush=True)
        return True

    def browser_log_problems(self, allowed=None):
        """The SEVERE and WARNING entries of the browser's console since the last call, but those that
        `allowed(entry)` excuses."""
        return ['browser console: %s %s' % (entry['level'], entry['message'])
                for entry in self.driver.get_log('browser')
                if entry['level'] in ('SEVERE', 'WARNING') and not (allowed and allowed(entry))]

    def screenshot(self, name):
        self.driver.save_screenshot(os.path.join(self.args.screenshots, name))

    # ---- helpers ---------------------------------------------------------------------------------------------

    def find(self, selector, root=None):
        return (root or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def wait_for(self, what, condition, timeout=WAIT_S):
        """Waits until condition(driver) is truthy and returns it; fails naming `what` otherwise."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(condition)
        except Exception as error:  # noqa: BLE001: a timeout or a vanished element: both mean "never happened"
            raise CheckFailed('timed out after %ss waiting for %s (%s)' % (timeout, what, type(error).__name__))

    def wait_workers_ready(self):
        ids = [w['id'] for w in self.http.json('/info')['workers']]
        expect(ids, '/info lists no worker')

        def all_ready(driver):
            states = dict(driver.execute_script(WORKER_STATES))
            return all(states.get(worker) == 'ready' for worker in ids)
        self.wait_for('workers %s to show data-state ready' % ids, all_ready)

    def job_ids(self):
        return {row.get_attribute('data-job-id') for row in self.find(css('job'))}

    def upload(self, path, drop=False):
        """Uploads `path` through the page's file input, or with `drop` by dropping it on the drop zone (a drop
        event carrying the file, as a browser dispatches it); the new job's row (a WebElement) and its id."""
        before = self.job_ids()
        name = os.path.basename(path)
        if drop:
            with open(path, 'rb') as f:
                data = base64.b64encode(f.read()).decode()
            self.driver.execute_script(DROP_FILE, self.find(css('drop-zone'))[0], data, name)
        else:
            self.find(css('file-input'))[0].send_keys(path)

        def new_row(driver):
            for row in self.find(css('job')):
                cells = self.find(css('job-filename'), row)
                if row.get_attribute('data-job-id') not in before and cells and cells[0].text == name:
                    return row
            return None
        row = self.wait_for('a job row for %r' % name, new_row)
        return row, row.get_attribute('data-job-id')

    def wait_status(self, job_id, status, timeout=WAIT_S):
        selector = css('job', job_id=job_id, status=status)
        return self.wait_for('job %s to be %s' % (job_id, status), lambda d: (self.find(selector) or [None])[0],
                             timeout)

    # ---- the checks --------------------------------------------------------------------------------------------

    def check_static_files(self):
        status, headers, _ = self.http.get('/', with_key=False)
        expect(status == 200 and headers.get('Content-Type', '').startswith('text/html'), 'GET / is not text/html')
        policy = headers.get('Content-Security-Policy', '')
        expect("script-src 'self'" in policy and 'unsafe-inline' not in policy, 'weak policy: %r' % policy)
        for path, media_type in [('/ui/js/main.js', 'text/javascript'), ('/ui/console.css', 'text/css'),
                                 ('/ui/icon.svg', 'image/svg+xml')]:
            status, headers, _ = self.http.get(path, with_key=False)
            expect(status == 200 and headers.get('Content-Type', '').startswith(media_type),
                   '%s: %d %s' % (path, status, headers.get('Content-Type')))
        status, _, _ = self.http.get('/ui/nope.js', with_key=False)
        expect(status == 404, '/ui/nope.js answered %d, not 404' % status)

    def run_without_key(self):
        if not self.step('page loads and the workers show ready', self.check_page_loads):
            return  # nothing else can work without the page
        if self.args.small_image:
            self.step('an image dropped on the page succeeds and opens in the before/after compare', self.check_compare)
        if self.args.slow_image:
            self.step('a running job is cancelled from its row', self.check_cancel)
        if self.args.small_image:
            self.step('a file named like HTML is shown as text', self.check_html_name)
            self.step('jobs are shown a page of 25 at a time, Older and Newer page through', self.check_pages)
        if self.args.kill_pid:
            self.step('a killed worker shows as gone', self.check_gone_worker)
        self.step('the page fits a 375 px wide phone', self.check_phone)

    def check_page_loads(self):
        self.driver.get(self.args.url)
        self.wait_for('the console', lambda d: self.find(css('console')))
        self.wait_workers_ready()

    def check_compare(self):
        row, job_id = self.upload(os.path.abspath(self.args.small_image), drop=True)
        self.wait_status(job_id, 'succeeded')
        self.screenshot('console.png')
        self.wait_for('the Open button', lambda d: self.find(css('open'), row))[0].click()
        dialog = self.wait_for('the detail dialog', lambda d: [e for e in self.find(css('job-detail'))
                                                                if e.get_attribute('open') is not None])[0]
        self.wait_for('the compare view to load', lambda d: self.driver.execute_script(COMPARE_LOADED))
        slider = self.find(css('compare-slider'))[0]
        before = self.wipe_position()
        slider.send_keys(Keys.ARROW_LEFT * 10)
        self.wait_for('the slider to move the wipe', lambda d: self.wipe_position() != before)
        self.screenshot('compare.png')
        slider.send_keys(Keys.ESCAPE)
        self.wait_for('Esc to close the dialog', lambda d: dialog.get_attribute('open') is None)

    def wipe_position(self):
        """The compare's --pos and the output image's clip-path, as the page computes them."""
        return self.driver.execute_script(
            "const c = document.querySelector('[data-test=compare]');"
            "const img = document.querySelector('[data-test=after-image]');"
            "return [getComputedStyle(c).getPropertyValue('--pos').trim(), getComputedStyle(img).clipPath];")

    def check_cancel(self):
        row, job_id = self.upload(os.path.abspath(self.args.slow_image))
        self.wait_status(job_id, 'running')
        self.wait_for('the Cancel button', lambda d: self.find(css('cancel'), row))[0].click()
        self.wait_status(job_id, 'cancelled')
        status = self.http.json('/jobs/' + job_id)['status']
        expect(status == 'cancelled', 'GET /jobs/%s says %s' % (job_id, status))

    def check_html_name(self):
        folder = tempfile.mkdtemp(prefix='console-check-')
        try:
            path = os.path.join(folder, HTML_NAME)
            shutil.copyfile(self.args.small_image, path)
            row, job_id = self.upload(path)
            cell = self.find(css('job-filename'), row)[0]
            expect(cell.text == HTML_NAME, 'the file name cell shows %r' % cell.text)
            expect(not self.find('.job-table img, .upload-list img'), 'an <img> was made from the file name')
            self.wait_status(job_id, 'succeeded')
            expect(not self.alert_open(), 'an alert is open')
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def check_pages(self):
        posted = [self.http.post_image(self.args.small_image, 'page-%02d.png' % i) for i in range(PAGE_JOBS)]
        newest_first = [job['id'] for job in self.http.json('/jobs?limit=1000')['jobs']]
        expect(newest_first[:PAGE_JOBS] == posted[::-1], 'GET /jobs does not list the posted jobs newest first')
        first_page = newest_first[:PAGE_SIZE]
        self.wait_for('the first page of %d jobs' % PAGE_SIZE, lambda d: self.page_ids() == first_page)
        self.find(css('older'))[0].click()
        self.wait_for('the second page', lambda d: self.page_ids() == newest_first[PAGE_SIZE:2 * PAGE_SIZE])
        self.find(css('newer'))[0].click()
        self.wait_for('the first page again', lambda d: self.page_ids() == first_page)

    def page_ids(self):
        """The ids of the job rows in the page, top to bottom (the rows that show are the page's only rows)."""
        try:
            return [row.get_attribute('data-job-id') for row in self.find(css('job'))]
        except StaleElementReferenceException:
            return None

    def alert_open(self):
        try:
            self.driver.switch_to.alert
            return True
        except NoAlertPresentException:
            return False

    def check_gone_worker(self):
        worker = self.args.kill_worker
        killed = time.monotonic()
        os.kill(self.args.kill_pid, signal.SIGKILL)
        # Within the heartbeat timeout, plus the page's poll of /info (1 s) and a margin for a loaded machine.
        self.wait_for('worker %s to show as gone' % worker,
                      lambda d: self.find(css('worker', worker_id=worker, state='gone')),
                      self.args.heartbeat_timeout_s + GONE_MARGIN_S)
        print('  %s shown gone %.1f s after SIGKILL' % (worker, time.monotonic() - killed), flush=True)
        row = self.find(css('worker', worker_id=worker))[0]
        expect('gone' in row.text, 'the row of %s does not say gone: %r' % (worker, row.text))
        self.screenshot('pool-gone.png')

    def check_phone(self):
        self.driver.set_window_size(375, 800)
        width = self.driver.execute_script('return window.innerWidth')
        if width != 375:  # a window has a minimum width on some platforms: emulate the phone's viewport instead
            self.driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                                        {'width': 375, 'height': 800, 'deviceScaleFactor': 1, 'mobile': True})
        self.wait_for('the layout at 375 px', lambda d: d.execute_script('return window.innerWidth') == 375)
        scroll = self.driver.execute_script(
            'return new Promise((done) => requestAnimationFrame(() => done(document.documentElement.scrollWidth)))')
        self.screenshot('phone.png')
        expect(scroll <= 376, 'the page scrolls sideways at 375 px: scrollWidth %s' % scroll)

    # ---- with an API key -------------------------------------------------------------------------------------

    def run_with_key(self):
        if not self.step('only the login form shows without a key', self.check_login_only, expected_401):
            return
        self.step('a wrong key is refused and the login stays', self.check_wrong_key, expected_401)
        self.step('the right key shows the console with the workers ready', self.check_right_key)

    def check_login_only(self):
        self.driver.get(self.args.url)
        self.wait_for('the login form', lambda d: [e for e in self.find(css('login')) if e.is_displayed()])
        for test in ('console', 'worker', 'job'):
            expect(not self.find(css(test)), 'an element data-test=%s is in the page before sign-in' % test)
        source = self.driver.page_source
        for worker in self.http.json('/info')['workers']:
            expect(worker['id'] not in source, 'worker id %s is in the page before sign-in' % worker['id'])

    def check_wrong_key(self):
        self.sign_in('wrong-' + self.args.api_key)
        self.wait_for('the wrong-key message', lambda d: [e for e in self.find('[data-test=login] [role=alert]')
                                                           if e.is_displayed() and e.text.strip()])
        expect(not self.find(css('console')), 'the console showed with a wrong key')
        self.screenshot('login.png')

    def check_right_key(self):
        self.sign_in(self.args.api_key)
        self.wait_for('the console', lambda d: self.find(css('console')))
        expect(not self.find(css('login')), 'the login form is still there')
        self.wait_workers_ready()

    def sign_in(self, key):
        field = self.find(css('api-key'))[0]
        field.clear()
        field.send_keys(key + Keys.ENTER)


# The browser logs every 401 answer to fetch() as a SEVERE "Failed to load resource" entry. On the login page the
# console asks GET /info without (or with a wrong) key on purpose, to learn that a key is needed: that one entry
# is expected there, and nothing else is excused.
def expected_401(entry):
    message = entry['message']
    return entry.get('source') == 'network' and '/info ' in message and 'status of 401' in message


WORKER_STATES = """
return [...document.querySelectorAll('[data-test=worker]')].map((e) => [e.dataset.workerId, e.dataset.state]);
"""

COMPARE_LOADED = """
const img = document.querySelector('[data-test=after-image]');
const canvas = document.querySelector('[data-test=before-canvas]');
if (!img || !canvas || !img.complete || img.naturalWidth === 0 || canvas.width === 0) return false;
const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
return false;
"""


def start_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1280,900'):
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True, help='the dispatcher, e.g. http://127.0.0.1:8090')
    parser.add_argument('--screenshots', required=True, help='folder for the PNG screenshots')
    parser.add_argument('--api-key', default='', help='the server runs with this key: check the login instead')
    parser.add_argument('--kill-pid', type=int, help='a worker process to SIGKILL')
    parser.add_argument('--kill-worker', help='the id of the worker --kill-pid runs')
    parser.add_argument('--slow-image', help='an image that takes several seconds (to cancel it while it runs)')
    parser.add_argument('--small-image', help='a small PNG that upscales quickly')
    parser.add_argument('--heartbeat-timeout-s', type=float, default=10, help='how long a dead worker may look alive')
    args = parser.parse_args(argv)
    if bool(args.kill_pid) != bool(args.kill_worker):
        parser.error('--kill-pid and --kill-worker go together')
    return args


def main(argv):
    return ConsoleCheck(parse_args(argv)).run()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
