// The before/after view of an image job: the upload enlarged to the output size by the browser's
// high-quality smoothing (labelled "bicubic") under the model's output ("model"), wiped by a range slider.

import { el } from './dom.js';

const MAX_CANVAS_PIXELS = 64e6;  // larger outputs get a scaled-down "before" (browsers cap canvas sizes)
const MAGNIFY_BELOW = 640;  // narrower outputs are shown enlarged, pixel for pixel (no smoothing by the display)

// The view of the decoded output `after` (an <img> already loaded) over the upload `file`. Rejects when the
// browser cannot decode `file`.
export async function compareView(after, file, sizes) {
  const width = after.naturalWidth;
  const height = after.naturalHeight;
  const before = await drawBefore(file, width, height);
  after.classList.add('after');
  const stage = el('div', { class: 'compare-stage' }, before, after,
    el('span', { class: 'compare-line', 'aria-hidden': 'true' }),
    el('span', { class: 'compare-label left', text: 'bicubic' }),
    el('span', { class: 'compare-label right', text: 'model' }));
  const view = el('figure', { class: 'compare', dataset: { test: 'compare' } },
    el('div', { class: 'compare-scroll' }, stage), controls(), el('figcaption', { class: 'muted', text: sizes }));
  view.style.setProperty('--natural-width', `${width}px`);
  view.style.setProperty('--aspect', String(width / height));
  view.classList.toggle('magnified', width < MAGNIFY_BELOW);
  setPosition(view, 50);
  return view;
}

function controls() {
  const slider = el('input', {
    type: 'range', min: 0, max: 100, step: 1, value: 50, dataset: { test: 'compare-slider' },
    'aria-label': 'Wipe between bicubic (left) and model (right)',
  });
  slider.addEventListener('input', () => setPosition(slider.closest('.compare'), slider.value));
  const actual = el('input', { type: 'checkbox' });
  actual.addEventListener('change', () => actual.closest('.compare').classList.toggle('actual', actual.checked));
  return el('div', { class: 'compare-controls' },
    el('span', { class: 'muted', 'aria-hidden': 'true', text: 'bicubic' }), slider,
    el('span', { class: 'muted', 'aria-hidden': 'true', text: 'model' }),
    el('label', { class: 'inline' }, actual, ' 1:1 pixels'));
}

// Puts the wipe at `value` percent from the left: left of it the bicubic view, right of it the model's.
function setPosition(view, value) {
  view.style.setProperty('--pos', `${Number(value)}%`);
}

async function drawBefore(file, width, height) {
  const scale = Math.min(1, Math.sqrt(MAX_CANVAS_PIXELS / (width * height)));
  const canvas = el('canvas', {
    class: 'before', dataset: { test: 'before-canvas' }, role: 'img',
    width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)),
    'aria-label': 'The upload enlarged with smooth interpolation',
  });
  const bitmap = await createImageBitmap(file);
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas;
}
