// Small live line charts drawn as inline SVG (no library): each shows one or more series of {t, v} points
// over a sliding time window, scaled to its panel, with the latest values as text and as its accessible name.

import { el, svg } from './dom.js';

const WIDTH = 300;
const HEIGHT = 64;
const PAD = 3;

export class Sparkline {
  // `series` is [{name, className}] (className picks the line's colour in console.css); `format(v)` shows a
  // value; the chart spans the last `windowMs`.
  constructor(title, series, format, windowMs) {
    this.title = title;
    this.series = series;
    this.format = format;
    this.windowMs = windowMs;
    this.caption = el('figcaption', {}, el('span', { class: 'chart-title', text: title }));
    this.readout = el('span', { class: 'chart-readout' });
    this.caption.append(this.readout);
    this.svg = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img' });
    this.element = el('figure', { class: 'chart' }, this.caption, this.svg);
    this.update(Date.now(), series.map(() => []));
  }

  // Redraws with `data[i]` the points of series i (points with a null value are skipped).
  update(now, data) {
    const points = data.map((list) => list.filter((p) => p.v !== null && p.t >= now - this.windowMs));
    const max = niceMax(Math.max(0, ...points.flat().map((p) => p.v)));
    const children = [gridLine(HEIGHT - PAD), gridLine(PAD + (HEIGHT - 2 * PAD) / 2, 'grid-mid')];
    points.forEach((list, i) => children.push(...this.line(list, now, max, this.series[i].className)));
    this.svg.replaceChildren(...children);
    const summary = this.summary(points, max);
    this.readout.textContent = summary;
    const minutes = Math.round(this.windowMs / 60000);
    this.svg.setAttribute('aria-label', `${this.title} over the last ${minutes} minutes: ${summary}`);
  }

  line(list, now, max, className) {
    if (list.length === 0) return [];
    const x = (t) => (((t - (now - this.windowMs)) / this.windowMs) * WIDTH).toFixed(1);
    const y = (v) => (HEIGHT - PAD - (v / max) * (HEIGHT - 2 * PAD)).toFixed(1);
    const coords = list.map((p) => `${x(p.t)},${y(p.v)}`).join(' ');
    const last = list[list.length - 1];
    return [
      svg('polyline', { points: coords, class: `series ${className}`, 'vector-effect': 'non-scaling-stroke' }),
      svg('circle', { cx: x(last.t), cy: y(last.v), r: 2, class: `dot ${className}` }),
    ];
  }

  summary(points, max) {
    const latest = points.map((list, i) => {
      const last = list[list.length - 1];
      return `${this.series[i].name} ${last ? this.format(last.v) : '–'}`;
    });
    return `${latest.join(', ')} (scale ${this.format(max)})`;
  }
}

function gridLine(y, className = 'grid') {
  return svg('line', { x1: 0, x2: WIDTH, y1: y, y2: y, class: className, 'vector-effect': 'non-scaling-stroke' });
}

// A round upper bound at least `value` (1, 2, 5, 10, 20, …), so the scale does not jitter.
function niceMax(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}
