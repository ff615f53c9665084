// The Queue panel: queue depth, jobs in flight and by status, and the job store from GET /stats, with charts
// of the last five minutes (sampled in memory): queue depth, throughput and the median wait and run time.

import { getJson, withQuery } from './api.js';
import { Sparkline } from './charts.js';
import { bar, definitions, el } from './dom.js';
import { bytes, duration, jobTimes, median, parseTime } from './format.js';

const WINDOW_MS = 5 * 60 * 1000;
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export class QueuePanel {
  // `figures` (a container) gets the numbers, `charts` (a container) the three charts.
  constructor(figures, charts) {
    this.figures = figures;
    this.samples = [];   // {t, depth, rate, run, wait}, oldest first, the last WINDOW_MS
    this.previous = null;  // {t, finished, succeeded} of the last sample
    this.counted = new Set();  // ids of the finished jobs whose times are in the latency chart
    this.depthChart = new Sparkline('Queue depth', [{ name: 'waiting', className: 'series-1' }],
      (v) => String(Math.round(v)), WINDOW_MS);
    this.rateChart = new Sparkline('Throughput', [{ name: 'jobs/s', className: 'series-2' }],
      (v) => v.toFixed(2), WINDOW_MS);
    this.latencyChart = new Sparkline('Median time per job',
      [{ name: 'run', className: 'series-3' }, { name: 'wait', className: 'series-4' }], duration, WINDOW_MS);
    charts.replaceChildren(this.depthChart.element, this.rateChart.element, this.latencyChart.element);
  }

  // One sample: GET /stats (and, when jobs finished since the last one, their times), then redraw.
  async sample() {
    const stats = await getJson('/stats');
    const now = Date.now();
    const finished = stats.jobs_done + stats.jobs_failed;
    const succeeded = stats.jobs.by_status.succeeded;
    const previous = this.previous;
    const latency = previous && previous.succeeded === succeeded ? {} : await this.latency(now);
    const rate = previous ? Math.max(0, finished - previous.finished) / ((now - previous.t) / 1000) : null;
    this.previous = { t: now, finished, succeeded };
    this.samples.push({ t: now, depth: depthOf(stats), rate, run: latency.run ?? null, wait: latency.wait ?? null });
    while (this.samples.length && this.samples[0].t < now - WINDOW_MS) this.samples.shift();
    this.render(stats, now);
  }

  // Median run and wait of the succeeded jobs not counted before that finished in the window (from the newest
  // page of them).
  async latency(now) {
    const page = await getJson(withQuery('/jobs', { status: 'succeeded', limit: 50 }));
    const recent = (job) => (parseTime(job.finished) ?? 0) >= now - WINDOW_MS;
    const fresh = page.jobs.filter((job) => recent(job) && !this.counted.has(job.id));
    this.counted = new Set(page.jobs.map((job) => job.id));
    const times = fresh.map((job) => jobTimes(job, now));
    return {
      run: median(times.map((t) => t.run).filter((v) => v !== null)),
      wait: median(times.map((t) => t.wait).filter((v) => v !== null)),
    };
  }

  render(stats, now) {
    const series = (field) => this.samples.map((s) => ({ t: s.t, v: s[field] }));
    this.depthChart.update(now, [series('depth')]);
    this.rateChart.update(now, [series('rate')]);
    this.latencyChart.update(now, [series('run'), series('wait')]);
    this.figures.replaceChildren(definitions(figurePairs(stats), 'figures'));
  }
}

function depthOf(stats) {
  return stats.queue_depth + stats.jobs.waiting;
}

function figurePairs(stats) {
  return [
    ['Queue depth', String(depthOf(stats))],
    ['In flight', String(stats.in_flight)],
    ['Done / failed', `${stats.jobs_done} / ${stats.jobs_failed}`],
    ['Workers lost', String(stats.workers_lost)],
    ['Draining', stats.draining ? 'yes: not accepting work' : null],
    ['Jobs', statusBadges(stats.jobs.by_status)],
    ['Store', storeText(stats.jobs.store)],
    ['Store cap', storeBar(stats.jobs.store)],
  ];
}

function statusBadges(byStatus) {
  return el('span', { class: 'badges' },
    STATUSES.map((status) => el('span', {
      class: `badge status-${status}`, text: `${status} ${byStatus[status] ?? 0}`,
    })));
}

function storeText(store) {
  const free = store.available_bytes === null ? '' : ` · ${bytes(store.available_bytes)} free`;
  return `${store.results} outputs · ${bytes(store.result_bytes)} outputs + ${bytes(store.input_bytes)} inputs${free}`;
}

function storeBar(store) {
  if (!(store.max_bytes > 0)) return null;
  return bar(store.result_bytes / store.max_bytes, `${bytes(store.result_bytes)} of ${bytes(store.max_bytes)}`);
}
