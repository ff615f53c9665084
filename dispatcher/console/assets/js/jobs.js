// The Jobs panel: one page of GET /jobs (newest first, 25 a page) filtered by status, refreshed in place;
// Newer/Older follow the server's `next` cursor, so only one page is ever in the page, however many jobs exist.

import { ApiError, sendJson, getJson, withQuery } from './api.js';
import { ref, showMessage } from './dom.js';
import { JobRow } from './job_row.js';

const PAGE_SIZE = 25;

export class JobsPanel {
  // `root` holds the panel's data-ref elements; `onOpen(job)` shows a job's detail.
  constructor(root, onOpen) {
    this.onOpen = onOpen;
    this.rows = new Map();  // job id -> JobRow, the current page only
    this.body = ref('job-rows', root);
    this.empty = ref('jobs-empty', root);
    this.message = ref('jobs-message', root);
    this.filter = ref('status-filter', root);
    this.newer = ref('newer', root);
    this.older = ref('older', root);
    this.pageLabel = ref('page-label', root);
    this.refreshSoon = () => {};  // set by the owner: runs refresh() as soon as possible
    this.sequence = 0;  // counts page changes, so that an answer for an old page is dropped
    this.after = null;  // the cursor of the page shown (null: the first page)
    this.stack = [];    // the cursors of the newer pages, for Newer
    this.next = null;   // the cursor of the older page, null on the last page
    this.bind();
  }

  bind() {
    this.filter.addEventListener('change', () => this.goTo(null, []));
    this.newer.addEventListener('click', () => this.goTo(this.stack.at(-1) ?? null, this.stack.slice(0, -1)));
    this.older.addEventListener('click', () => this.goTo(this.next, [...this.stack, this.after]));
  }

  goTo(after, stack) {
    this.after = after;
    this.stack = stack;
    this.sequence += 1;
    this.refreshSoon();
  }

  // Fetches and shows the current page; a cursor the server no longer knows falls back to the first page.
  async refresh() {
    const sequence = this.sequence;
    const path = withQuery('/jobs', { limit: PAGE_SIZE, status: this.filter.value, after: this.after });
    let page;
    try {
      page = await getJson(path);
    } catch (error) {
      if (!(error instanceof ApiError) || !this.after || error.status === 0 || error.unauthorized) throw error;
      this.goTo(null, []);
      return;
    }
    if (sequence !== this.sequence) return;
    this.next = page.next;
    this.show(page.jobs);
  }

  show(jobs) {
    const ids = new Set(jobs.map((job) => job.id));
    for (const [id, row] of this.rows) {
      if (!ids.has(id)) {
        row.element.remove();
        this.rows.delete(id);
      }
    }
    jobs.forEach((job, index) => this.place(job, index));
    this.empty.hidden = jobs.length > 0;
    this.empty.textContent = this.filter.value ? `No ${this.filter.value} jobs.` : 'No jobs yet.';
    this.newer.disabled = this.after === null;
    this.older.disabled = !this.next;
    this.pageLabel.textContent = `Page ${this.stack.length + 1}`;
  }

  // Updates (or creates) the row of `job` and puts it at `index`, moving no row that is already in place.
  place(job, index) {
    let row = this.rows.get(job.id);
    if (row) {
      row.update(job);
    } else {
      row = new JobRow(job, { cancel: (j, button) => this.cancel(j, button), open: (j) => this.onOpen(j) });
      this.rows.set(job.id, row);
    }
    const current = this.body.children[index] || null;
    if (current !== row.element) this.body.insertBefore(row.element, current);
  }

  cancel(job, button) {
    button.disabled = true;
    showMessage(this.message, '');
    sendJson(`/jobs/${encodeURIComponent(job.id)}`, 'DELETE')
      .then((cancelled) => this.rows.get(job.id)?.update(cancelled))
      .catch((err) => {
        button.disabled = false;
        showMessage(this.message, `Could not cancel ${job.filename || job.id}: ${err.message}`);
      })
      .finally(() => this.refreshSoon());
  }
}
