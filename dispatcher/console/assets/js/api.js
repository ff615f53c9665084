// The dispatcher's HTTP API as the console uses it: every request carries the bearer key when one is set,
// and an error answer becomes an ApiError with the server's JSON `error` text.

const KEY_NAME = 'tsdsr.apiKey';
let apiKey = readStoredKey();

// A failed request: `status` is the HTTP status, or 0 when the server could not be reached.
export class ApiError extends Error {
  constructor(status, message, code = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  get unauthorized() {
    return this.status === 401;
  }
}

function readStoredKey() {
  try {
    return sessionStorage.getItem(KEY_NAME) || '';
  } catch {
    return '';
  }
}

// True when requests carry a key.
export function hasKey() {
  return apiKey !== '';
}

// Uses `key` for the following requests; `remember` keeps it in sessionStorage for reloads of this tab.
export function setKey(key, remember) {
  apiKey = key;
  try {
    if (remember && key) sessionStorage.setItem(KEY_NAME, key);
    else sessionStorage.removeItem(KEY_NAME);
  } catch {
    // Storage can be disabled; the key then lasts as long as the page.
  }
}

// `path` with the query parameters in `params` that are not null, undefined or "".
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// Sends a request; the Response when it is 2xx, else throws ApiError.
async function request(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  let response;
  try {
    response = await fetch(path, { method, body, headers, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'connection lost');
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response) {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The body is optional: the status alone says enough.
  }
  try {
    const body = JSON.parse(text);
    return new ApiError(response.status, body.error || response.statusText, body.code || '');
  } catch {
    return new ApiError(response.status, text.trim() || response.statusText || `HTTP ${response.status}`);
  }
}

// GET `path` as JSON.
export async function getJson(path) {
  return (await request(path)).json();
}

// Sends `method` to `path` (with an optional FormData body) and returns the JSON answer.
export async function sendJson(path, method, body) {
  return (await request(path, { method, body })).json();
}

// A job's output: the Blob, the file name its Content-Disposition gives, and its X-Output-Size.
export async function getResult(jobId) {
  const response = await request(`/jobs/${encodeURIComponent(jobId)}/result`);
  return {
    blob: await response.blob(),
    filename: filenameOf(response.headers.get('Content-Disposition')) || `${jobId}.bin`,
    outputSize: response.headers.get('X-Output-Size'),
  };
}

function filenameOf(disposition) {
  const match = /filename="([^"]+)"/.exec(disposition || '');
  return match ? match[1] : '';
}
