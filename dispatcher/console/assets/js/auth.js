// Sign-in: the first GET /info decides whether the server wants a key. On 401 only the login form is put in
// the page; a key the server accepts is kept in sessionStorage (this tab) and the console is shown.

import { ApiError, getJson, setKey } from './api.js';
import { cloneTemplate, guard, ref, showMessage } from './dom.js';

// GET /info with the stored key (if any): the info, or null when the server asks for a (different) key.
export async function probe() {
  try {
    return await getJson('/info');
  } catch (error) {
    if (error instanceof ApiError && error.unauthorized) {
      setKey('', false);
      return null;
    }
    throw error;
  }
}

// Replaces the page's content with the login form; calls `onSignedIn(info)` once a key is accepted.
// `notice` is shown above the form (e.g. why the session ended).
export function showLogin(app, onSignedIn, notice = '') {
  const section = cloneTemplate('login-template');
  const form = section.querySelector('[data-test="login"]');
  const input = section.querySelector('[data-test="api-key"]');
  const error = ref('login-error', section);
  showMessage(error, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guard(() => signIn(input, error, onSignedIn), (err) => showMessage(error, messageOf(err)))();
  });
  app.replaceChildren(section);
  input.focus();
}

async function signIn(input, error, onSignedIn) {
  const key = input.value.trim();
  if (!key) {
    showMessage(error, 'Enter the API key.');
    return;
  }
  showMessage(error, '');
  setKey(key, false);
  const info = await probe();
  if (!info) {
    showMessage(error, 'Wrong key: the server did not accept it.');
    input.select();
    return;
  }
  setKey(key, true);
  onSignedIn(info);
}

function messageOf(err) {
  if (err instanceof ApiError && err.status === 0) return 'Cannot reach the server. Try again.';
  return `Sign-in failed: ${err.message}`;
}

