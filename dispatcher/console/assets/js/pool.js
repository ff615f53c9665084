// The Pool panel: one card per worker from GET /info — the registered ones (ready, busy, failed), the local
// ones the dispatcher is still starting (loading) and the recently departed ones (gone).

import { bar, definitions, el } from './dom.js';
import { ago, duration, gigabytes, parseTime, percent } from './format.js';

const MAX_GONE = 12;

// The rows to show: {id, state, worker} for registered workers, {id, state, departed} for gone ones and
// {id, state: 'loading'} for expected local workers not registered yet.
function poolRows(info) {
  const workers = info.workers || [];
  const live = new Set(workers.map((w) => w.id));
  const rows = workers.map((worker) => ({ id: worker.id, state: liveState(worker), worker }));
  const gone = new Map();
  for (const departed of info.departed_workers || []) {  // newest first: keep the first of each id
    if (!live.has(departed.id) && !gone.has(departed.id)) gone.set(departed.id, departed);
  }
  const expected = info.local_workers ? info.local_workers.expected : 0;
  for (let i = 0; i < expected; i += 1) {
    const id = `local-${i}`;
    if (!live.has(id) && !gone.has(id)) rows.push({ id, state: 'loading' });
  }
  rows.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  const goneRows = [...gone.values()].slice(0, MAX_GONE).map((d) => ({ id: d.id, state: 'gone', departed: d }));
  return rows.concat(goneRows);
}

function liveState(worker) {
  if (worker.status === 'error') return 'failed';
  return worker.in_flight > 0 ? 'busy' : 'ready';
}

// Renders the panel's cards into `list` and its one-line summary into `summary`. A worker keeps its card
// element from one call to the next (only its content is replaced).
export function renderPool(info, list, summary) {
  const rows = poolRows(info);
  const cards = new Map([...list.children].map((card) => [card.dataset.workerId, card]));
  rows.forEach((row, index) => {
    const card = cards.get(row.id) || el('li', { dataset: { test: 'worker', workerId: row.id } });
    fillCard(card, row);
    cards.delete(row.id);
    if (list.children[index] !== card) list.insertBefore(card, list.children[index] || null);
  });
  for (const stale of cards.values()) stale.remove();
  summary.textContent = summaryText(rows, info.local_workers);
}

function summaryText(rows, local) {
  const counts = {};
  for (const row of rows) counts[row.state] = (counts[row.state] || 0) + 1;
  const parts = ['ready', 'busy', 'failed', 'loading', 'gone']
    .filter((state) => counts[state])
    .map((state) => `${counts[state]} ${state}`);
  if (local) parts.push(`local restarts: ${local.restarts}`);
  return parts.length ? parts.join(' · ') : 'no workers';
}

function fillCard(card, row) {
  card.className = `worker state-${row.state}`;
  card.dataset.state = row.state;
  const head = el('div', { class: 'worker-head' },
    el('span', { class: 'worker-id', text: row.id }),
    el('span', { class: `badge state-${row.state}`, text: stateText(row) }));
  card.replaceChildren(head, row.worker ? liveFacts(row.worker) : otherFacts(row));
}

function stateText(row) {
  if (row.state === 'busy') return `busy ${row.worker.in_flight}/${row.worker.slots}`;
  return row.state;
}

function liveFacts(w) {
  const slots = Math.max(1, w.slots || 1);
  const computing = w.live ? w.live.busy : w.in_flight;
  const done = w.live ? w.live.jobs_done : w.jobs_done;
  return definitions([
    ['Host', w.host],
    ['Device', w.device],
    ['GPU', w.gpu],
    ['Model', w.model_name],
    ['Error', w.status === 'error' ? el('span', { class: 'error-text', text: w.error || 'model failed' }) : null],
    ['Busy', bar(w.in_flight / slots, `${w.in_flight}/${slots} slots held · ${computing} computing`)],
    ['Memory', memoryBar(w)],
    ['Utilization', w.utilization >= 0 ? bar(w.utilization, percent(w.utilization)) : null],
    ['Jobs', `${done} done · ${w.live ? w.live.jobs_failed : 0} failed`],
    ['Last seen', `${duration(w.last_seen_ms_ago)} ago`],
    ['Uptime', duration(w.uptime_s * 1000)],
  ]);
}

function memoryBar(w) {
  const memory = w.memory;
  if (!String(w.device || '').startsWith('cuda') || !memory || !(memory.total_gb > 0)) return null;
  const used = memory.total_gb - memory.free_gb;
  return bar(used / memory.total_gb, `${gigabytes(used)} / ${gigabytes(memory.total_gb)}`);
}

function otherFacts(row) {
  if (row.state === 'loading') {
    return definitions([['Status', 'started by the dispatcher, not registered yet']]);
  }
  const d = row.departed;
  const when = parseTime(d.gone) === null ? '' : ` ${ago(d.gone)}`;
  return definitions([
    ['Host', d.host],
    ['Device', d.device],
    ['GPU', d.gpu],
    ['Model', d.model_name],
    ['Gone', `${d.reason || 'dropped'}${when}`],
    ['Jobs done', d.jobs_done === undefined ? null : String(d.jobs_done)],
  ]);
}
