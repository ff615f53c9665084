// Formatting of numbers, sizes, times and durations for display, and the timing figures of a job.

// Milliseconds since the epoch of an ISO 8601 time; null for null, empty or unparsable text.
export function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

// "320 ms", "12.3 s", "4 m 05 s", "2 h 03 m", "3 d 04 h"; "–" for null.
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  const s = value / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${pad(Math.floor(s % 60))} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} m`;
  return `${Math.floor(s / 86400)} d ${pad(Math.floor((s % 86400) / 3600))} h`;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

// "1.5 MiB" and so on; "–" for null.
export function bytes(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

// "12.5 GB" (10^9 bytes, as the API reports device memory).
export function gigabytes(gb) {
  return `${Number(gb).toFixed(1)} GB`;
}

// "42%" of a 0..1 fraction.
export function percent(fraction) {
  return `${Math.round(fraction * 100)}%`;
}

// A local wall-clock time for an ISO time: the time alone today, the date and time otherwise.
export function clock(iso) {
  const ms = parseTime(iso);
  if (ms === null) return '–';
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

// "3.2 s ago" for an ISO time.
export function ago(iso) {
  const ms = parseTime(iso);
  return ms === null ? '–' : `${duration(Date.now() - ms)} ago`;
}

// The first 8 characters of a job id.
export function shortId(id) {
  return String(id).slice(0, 8);
}

// The median of numbers; null for none.
export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// A job's wait (created → started) and run (started → finished) in ms; unfinished ones count up to `now`.
export function jobTimes(job, now = Date.now()) {
  const created = parseTime(job.created);
  const started = parseTime(job.started);
  const finished = parseTime(job.finished);
  const waitEnd = started ?? (job.status === 'queued' ? now : finished);
  const runEnd = finished ?? (job.status === 'running' ? now : null);
  return {
    wait: created !== null && waitEnd !== null ? waitEnd - created : null,
    run: started !== null && runEnd !== null ? runEnd - started : null,
  };
}

// True for a job that can change no more.
export function isFinished(job) {
  return job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled';
}
