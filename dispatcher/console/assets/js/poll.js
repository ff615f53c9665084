// Polling: a task repeated on a timer, never two runs at once. While any poller fails to reach the server a
// small "connection lost, retrying" banner shows; a 401 hands over to the sign-in instead of retrying.

import { ApiError } from './api.js';
import { ref } from './dom.js';

const failing = new Map();  // poller -> its last error

function showBanner() {
  const banner = ref('banner');
  const errors = [...failing.values()];
  if (errors.length === 0) {
    banner.hidden = true;
    return;
  }
  const error = errors[0];
  banner.textContent = error.status > 0
    ? `Server error ${error.status} (${error.message}), retrying…`
    : 'Connection lost, retrying…';
  banner.hidden = false;
}

export class Poller {
  // Runs `task` every `intervalMs`; with `whileVisible` only while the page is visible. `onUnauthorized(error)`
  // is called (and polling stops) when the server refuses the key.
  constructor(task, intervalMs, { whileVisible = false, onUnauthorized = () => {} } = {}) {
    this.task = task;
    this.intervalMs = intervalMs;
    this.whileVisible = whileVisible;
    this.onUnauthorized = onUnauthorized;
    this.timer = null;
    this.running = false;
    this.again = false;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.now();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    failing.delete(this);
    showBanner();
  }

  // Runs the task as soon as possible (after the run in progress, if any).
  now() {
    clearTimeout(this.timer);
    if (this.running) this.again = true;
    else this.run();
  }

  async run() {
    if (this.stopped) return;
    this.running = true;
    try {
      if (!this.whileVisible || document.visibilityState === 'visible') await this.task();
      failing.delete(this);
    } catch (error) {
      if (this.stopped) return;  // stopped while the request was out: its answer no longer matters
      if (error.unauthorized) {
        this.stop();
        this.onUnauthorized(error);
        return;
      }
      if (!(error instanceof ApiError)) console.error(error);  // a fault of the console itself
      failing.set(this, error);
    } finally {
      this.running = false;
    }
    showBanner();
    this.schedule();
  }

  schedule() {
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.run();
    } else {
      this.timer = setTimeout(() => this.run(), this.intervalMs);
    }
  }
}
