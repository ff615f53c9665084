// The console's entry point: signs in (auth.js), then mounts the panels and polls the API — /info every
// second for the pool, /stats every two seconds for the queue, and the jobs page while the tab is visible.

import { getJson, hasKey, setKey } from './api.js';
import { probe, showLogin } from './auth.js';
import { cloneTemplate, ref } from './dom.js';
import { JobDetail } from './detail.js';
import { JobsPanel } from './jobs.js';
import { Poller } from './poll.js';
import { renderPool } from './pool.js';
import { QueuePanel } from './queue.js';
import { UploadPanel } from './upload.js';

const BOOT_RETRY_MS = 2000;
const app = ref('app');
let unmount = () => {};

// Builds the console for a server that answered GET /info with `info`, and starts polling.
function mountConsole(info) {
  const root = cloneTemplate('console-template');
  const options = { onUnauthorized: () => signOut('The server no longer accepts this key.') };
  const detail = new JobDetail(root);
  const jobs = new JobsPanel(root, (job) => detail.open(job));
  const jobsPoller = new Poller(() => jobs.refresh(), 1500, { ...options, whileVisible: true });
  jobs.refreshSoon = () => jobsPoller.now();
  const upload = new UploadPanel(root, () => jobsPoller.now());
  const queue = new QueuePanel(ref('queue-figures', root), ref('charts', root));
  const showInfo = infoView(root, upload);
  const pollers = [
    new Poller(async () => showInfo(await getJson('/info')), 1000, options),
    new Poller(() => queue.sample(), 2000, options),
    jobsPoller,
  ];
  const signOutButton = ref('sign-out', root);
  signOutButton.hidden = !hasKey();
  signOutButton.addEventListener('click', () => signOut(''));
  showInfo(info);
  app.replaceChildren(root);
  pollers.forEach((poller) => poller.start());
  const onVisible = () => document.visibilityState === 'visible' && jobsPoller.now();
  document.addEventListener('visibilitychange', onVisible);
  unmount = () => {
    pollers.forEach((poller) => poller.stop());
    document.removeEventListener('visibilitychange', onVisible);
    detail.close();
  };
}

// A function that shows GET /info's answer: the pool, the upload options and the service line.
function infoView(root, upload) {
  const list = ref('workers', root);
  const summary = ref('pool-summary', root);
  const service = ref('service', root);
  return (info) => {
    renderPool(info, list, summary);
    upload.setInfo(info);
    service.textContent = [info.version, info.model].filter(Boolean).join(' · ');
  };
}

// Leaves the console: stops polling, forgets the key and shows the login form with `notice`.
function signOut(notice) {
  unmount();
  unmount = () => {};
  setKey('', false);
  showLogin(app, mountConsole, notice);
}

async function start() {
  let info;
  try {
    info = await probe();
  } catch (error) {
    ref('boot').textContent = `Cannot reach the server (${error.message}), retrying…`;
    setTimeout(start, BOOT_RETRY_MS);
    return;
  }
  if (info) mountConsole(info);
  else showLogin(app, mountConsole);
}

start();
