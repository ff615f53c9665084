// The job detail dialog: every field of a job, its parameters and sizes, and for a succeeded job its output
// (fetched with the key into a blob: URL) with a Download button and, for images uploaded from this page, the
// before/after compare. Esc or Close closes it and frees the blobs.

import { getJson, getResult } from './api.js';
import { compareView } from './compare.js';
import { definitions, el, ref } from './dom.js';
import { clock, duration, isFinished, jobTimes } from './format.js';
import { originalFor } from './upload.js';

const REFRESH_MS = 1500;

export class JobDetail {
  constructor(root) {
    this.dialog = ref('detail', root);
    this.title = ref('detail-title', root);
    this.body = ref('detail-body', root);
    this.facts = el('div');
    this.output = el('div', { class: 'output' });
    this.urls = [];
    this.session = 0;  // counts opens and closes: work for a closed view is dropped
    ref('detail-close', root).addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => this.clear());
  }

  // Opens the dialog on `job` and keeps it current until the job is finished.
  open(job) {
    this.clear();
    const session = this.session;
    this.title.textContent = `Job ${job.filename || job.id}`;
    this.body.replaceChildren(this.output, this.facts);
    this.dialog.showModal();
    this.follow(job, session).catch((error) => this.fail(error, session));
  }

  // Closes the dialog (if open) and frees what it holds.
  close() {
    if (this.dialog.open) this.dialog.close();
    this.clear();
  }

  clear() {
    this.session += 1;
    clearTimeout(this.timer);
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    this.facts.replaceChildren();
    this.output.replaceChildren();
  }

  async follow(job, session) {
    this.facts.replaceChildren(...jobSections(job));
    if (!isFinished(job)) {
      this.output.replaceChildren(el('p', { class: 'muted', text: 'The output appears here once the job succeeds.' }));
      this.timer = setTimeout(() => this.refresh(job.id, session), REFRESH_MS);
      return;
    }
    if (job.status !== 'succeeded') {
      this.output.replaceChildren();
      return;
    }
    await this.showOutput(job, session);
  }

  async refresh(id, session) {
    try {
      const job = await getJson(`/jobs/${encodeURIComponent(id)}`);
      if (session === this.session) await this.follow(job, session);
    } catch (error) {
      this.fail(error, session);
      if (session === this.session) this.timer = setTimeout(() => this.refresh(id, session), REFRESH_MS);
    }
  }

  fail(error, session) {
    if (session !== this.session) return;
    this.output.replaceChildren(el('p', { class: 'error', role: 'alert', text: `Could not load: ${error.message}` }));
  }

  async showOutput(job, session) {
    if (job.result === 'expired' || job.result === 'evicted') {
      this.output.replaceChildren(el('p', { class: 'muted', text: `The output is no longer stored (${job.result}).` }));
      return;
    }
    this.output.replaceChildren(el('p', { class: 'muted', text: 'Loading the output…' }));
    const result = await getResult(job.id);
    if (session !== this.session) return;
    const url = URL.createObjectURL(result.blob);
    this.urls.push(url);
    const media = result.blob.type.startsWith('video/') || job.kind === 'video'
      ? videoView(url, job)
      : await imageView(url, job);
    if (session !== this.session) return;
    this.output.replaceChildren(downloadButton(url, result.filename), media);
  }
}

function downloadButton(url, filename) {
  const button = el('button', { type: 'button', dataset: { test: 'download' } }, `Download ${filename}`);
  button.addEventListener('click', () => {
    const link = el('a', { href: url, download: filename, class: 'visually-hidden' });
    document.body.append(link);
    link.click();
    link.remove();
  });
  return button;
}

function videoView(url, job) {
  const video = el('video', { class: 'output-video', controls: true, preload: 'metadata', src: url });
  const view = outputAlone(video, `Output ${job.output_size || 'video'}.`);
  video.addEventListener('error', () => {
    view.querySelector('figcaption').textContent = 'This browser cannot play this video; download it instead.';
  });
  return view;
}

async function imageView(url, job) {
  const after = el('img', { class: 'output-image', alt: 'Model output', dataset: { test: 'after-image' }, src: url });
  await after.decode();
  const sizes = `bicubic: ${job.input_size || '?'} → ${after.naturalWidth}x${after.naturalHeight} · ` +
    `model: ${job.output_size || `${after.naturalWidth}x${after.naturalHeight}`}`;
  const file = originalFor(job.id);
  if (!file) {
    return outputAlone(after, `Output ${job.output_size || ''}. The before view is available for files uploaded ` +
      'from this page.');
  }
  try {
    return await compareView(after, file, sizes);
  } catch {
    return outputAlone(after, 'This browser cannot decode the upload, so only the output is shown.');
  }
}

function outputAlone(media, caption) {
  return el('figure', { class: 'output-alone' }, media, el('figcaption', { class: 'muted', text: caption }));
}

// The job's fields, its parameters and (for videos) the output check, as definition lists.
function jobSections(job) {
  const sections = [
    section('Job', definitions(jobFacts(job))),
    section('Parameters', definitions(entries(job.params))),
  ];
  const check = job.video && job.video.check;
  if (check && typeof check === 'object') sections.push(section('Video check', definitions(entries(check))));
  return sections;
}

function section(title, content) {
  return el('section', { class: 'detail-section' }, el('h3', { text: title }), content);
}

function jobFacts(job) {
  const times = jobTimes(job);
  const progress = job.progress ? `${job.progress.done}/${job.progress.total}` : null;
  return [
    ['Id', job.id], ['Kind', job.kind], ['Status', job.status], ['File', job.filename || '(raw body)'],
    ['Sizes', `${job.input_size || '?'} → ${job.output_size || '?'}`], ['Progress', progress],
    ['Position', job.position === null ? null : String(job.position)],
    ['Created', clock(job.created)], ['Started', clock(job.started)], ['Finished', clock(job.finished)],
    ['Wait', duration(times.wait)], ['Run', duration(times.run)],
    ['Worker', job.worker || '–'], ['Attempts', String(job.attempts)],
    ['Error', job.error], ['Error code', job.error_code],
    ['Output', job.result], ['Expires', job.expires ? clock(job.expires) : null],
    ['Frames/s', job.frames_per_s == null ? null : Number(job.frames_per_s).toFixed(2)],
    ['ETA', job.eta_s == null ? null : duration(job.eta_s * 1000)],
    ['Chunks', job.chunks ? `${job.chunks.stored}/${job.chunks.total} stored` : null],
  ];
}

// [key, text] pairs of an object's fields; nested values as compact JSON.
function entries(object) {
  return Object.entries(object || {}).map(([key, value]) => [key, valueText(value)]);
}

function valueText(value) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
