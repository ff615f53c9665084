// One row of the Jobs table: built once per job id and updated in place on each refresh (so a focused
// button keeps its focus), with Cancel for queued and running jobs and Open for finished ones.

import { el } from './dom.js';
import { clock, duration, isFinished, jobTimes, shortId } from './format.js';

const COLUMNS = ['Id', 'Kind', 'File', 'Status', 'Progress', 'Worker', 'Created', 'Wait', 'Run', 'Error', 'Actions'];

export class JobRow {
  // `actions` is {cancel(job, button), open(job)}.
  constructor(job, actions) {
    this.actions = actions;
    this.status = null;
    this.cells = Object.fromEntries(COLUMNS.map((name) => [name, el('td', { 'data-label': name })]));
    this.cells.File.dataset.test = 'job-filename';
    this.cells.Id.append(el('code', { title: job.id, text: shortId(job.id) }));
    this.badge = el('span', { class: 'badge' });
    this.cells.Status.append(this.badge);
    this.progress = el('progress', { max: 1, value: 0 });
    this.progressText = el('span', { class: 'progress-text' });
    this.cells.Progress.append(this.progress, this.progressText);
    this.element = el('tr', { dataset: { test: 'job', jobId: job.id } }, Object.values(this.cells));
    this.update(job);
  }

  // Shows `job` (a newer state of the same job).
  update(job) {
    this.job = job;
    this.element.dataset.status = job.status;
    const times = jobTimes(job);
    setText(this.cells.Kind, job.kind);
    setText(this.cells.File, job.filename || '(raw body)');
    setText(this.cells.Worker, job.worker || '–');
    setText(this.cells.Created, clock(job.created));
    setText(this.cells.Wait, duration(times.wait));
    setText(this.cells.Run, duration(times.run));
    setText(this.cells.Error, job.error || '');
    this.badge.className = `badge status-${job.status}`;
    this.badge.textContent = job.status;
    this.showProgress(job);
    if (this.status !== job.status) this.showActions(job);
    this.status = job.status;
  }

  showProgress(job) {
    const { done, total } = job.progress || { done: 0, total: 0 };
    const complete = job.status === 'succeeded';
    this.progress.max = total > 0 ? total : 1;
    this.progress.value = total > 0 ? done : Number(complete);
    this.progress.setAttribute('aria-label', `${done} of ${total} done`);
    let text = total > 0 ? `${done}/${total}` : '';
    if (job.status === 'queued' && job.position !== null && job.position !== undefined) {
      text = `#${job.position} in queue`;
    }
    this.progressText.textContent = text;
  }

  showActions(job) {
    const buttons = [];
    if (!isFinished(job)) {
      buttons.push(button('Cancel', 'cancel', 'danger', (event) => this.actions.cancel(this.job, event.currentTarget)));
    }
    if (job.status === 'succeeded') {
      buttons.push(button('Open', 'open', '', () => this.actions.open(this.job)));
    } else if (isFinished(job)) {
      buttons.push(button('Details', 'details', 'secondary', () => this.actions.open(this.job)));
    }
    const hadFocus = this.cells.Actions.contains(document.activeElement);
    this.cells.Actions.replaceChildren(...buttons);
    if (hadFocus && buttons.length) buttons[0].focus();
  }
}

function button(label, test, className, onClick) {
  return el('button', {
    type: 'button', class: className, dataset: { test }, 'aria-label': `${label} job`, on: { click: onClick },
  }, label);
}

function setText(cell, text) {
  if (cell.textContent !== text) cell.textContent = text;
}
