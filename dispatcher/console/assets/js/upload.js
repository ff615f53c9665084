// The Upload panel: files picked or dropped go one at a time to POST /jobs (multipart field `file`) with the
// options chosen; each gets a line saying where it stands. Images are kept by job id for the compare view,
// since the server does not keep inputs once a job is done.

import { sendJson, withQuery } from './api.js';
import { el, ref } from './dom.js';
import { shortId } from './format.js';

const VIDEO_NAME = /\.(mp4|m4v|mkv|mov|webm|avi|ts|mts|m2ts)$/i;
const MAX_ORIGINALS = 200;
const MAX_LINES = 20;
const originals = new Map();  // job id -> File uploaded from this page (images only), oldest first

// The File uploaded from this page for job `jobId`, or null.
export function originalFor(jobId) {
  return originals.get(jobId) || null;
}

function remember(jobId, file) {
  originals.set(jobId, file);
  if (originals.size > MAX_ORIGINALS) originals.delete(originals.keys().next().value);
}

function isVideo(file) {
  return file.type.startsWith('video/') || VIDEO_NAME.test(file.name);
}

export class UploadPanel {
  // `root` holds the panel's data-ref elements; `onSubmitted(job)` is called for each accepted job.
  constructor(root, onSubmitted) {
    this.form = ref('upload-form', root);
    this.scale = ref('scale', root);
    this.processSize = ref('process-size', root);
    this.list = ref('upload-list', root);
    this.zone = ref('drop-zone', root);
    this.input = ref('file-input', root);
    this.onSubmitted = onSubmitted;
    this.pending = Promise.resolve();  // the uploads run one after another
    this.scales = '';
    this.bind();
  }

  bind() {
    this.form.addEventListener('submit', (event) => event.preventDefault());
    this.input.addEventListener('change', () => {
      this.add([...this.input.files]);
      this.input.value = '';
    });
    for (const type of ['dragenter', 'dragover']) {
      this.zone.addEventListener(type, (event) => {
        event.preventDefault();
        this.zone.classList.add('dragging');
      });
    }
    this.zone.addEventListener('dragleave', () => this.zone.classList.remove('dragging'));
    this.zone.addEventListener('drop', (event) => {
      event.preventDefault();
      this.zone.classList.remove('dragging');
      this.add([...event.dataTransfer.files]);
    });
  }

  // Fills the scale choices and the process size's default from GET /info (keeps what the user chose).
  setInfo(info) {
    const scales = (info.scales && info.scales.length ? info.scales : [info.default_upscale]).map(String);
    if (scales.join() !== this.scales) {
      const chosen = this.scale.value || String(info.default_upscale);
      this.scale.replaceChildren(...scales.map((s) => el('option', { value: s, text: `×${s}` })));
      this.scale.value = scales.includes(chosen) ? chosen : scales[0];
      this.scales = scales.join();
    }
    if (!this.processSize.value) this.processSize.value = String(info.default_process_size);
  }

  add(files) {
    for (const file of files) {
      const line = new UploadLine(file);
      this.list.prepend(line.element);
      while (this.list.children.length > MAX_LINES) this.list.lastElementChild.remove();
      this.pending = this.pending.then(() => this.upload(file, line));
    }
  }

  async upload(file, line) {
    const video = isVideo(file);
    const data = this.form.elements;
    const path = withQuery('/jobs', {
      upscale: data.upscale.value,
      process_size: data.process_size.value,
      format: video ? null : data.format.value,
      codec: video ? data.codec.value : null,
    });
    const body = new FormData();
    body.append('file', file, file.name);
    line.show('uploading…', '');
    try {
      const job = await sendJson(path, 'POST', body);
      if (!video) remember(job.id, file);
      line.show(`queued as ${shortId(job.id)}`, 'ok');
      this.onSubmitted(job);
    } catch (error) {
      line.show(`not accepted: ${error.message}`, 'error');
    }
  }
}

// One file's line in the upload list.
class UploadLine {
  constructor(file) {
    this.state = el('span', { class: 'upload-state' });
    this.element = el('li', {}, el('span', { class: 'upload-name', text: file.name }), this.state);
  }

  show(text, kind) {
    this.state.textContent = text;
    this.state.className = `upload-state ${kind}`;
  }
}
