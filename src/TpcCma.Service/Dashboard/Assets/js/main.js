// Hash routes: #/ (jobs), #/jobs/ID, #/sweeps, #/sweeps/ID. A 401 anywhere shows the sign-in form.
import { Unauthorized, ApiError, signIn, signOut } from './api.js';
import { el } from './dom.js';
import { jobsView } from './jobs.js';
import { jobView } from './job.js';
import { sweepsView, sweepView } from './sweep.js';

const view = document.getElementById('view');
const signOutButton = document.getElementById('sign-out');
let cleanup = null;

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = (path || '/').split('/').filter(Boolean);
  try {
    if (parts[0] === 'jobs' && parts[1]) cleanup = await jobView(view, parts[1]);
    else if (parts[0] === 'sweeps' && parts[1]) cleanup = await sweepView(view, parts[1]);
    else if (parts[0] === 'sweeps') cleanup = await sweepsView(view);
    else cleanup = await jobsView(view, params);
    signOutButton.hidden = false;
  } catch (error) {
    if (error instanceof Unauthorized) showSignIn();
    else view.replaceChildren(el('div', { class: 'card' }, el('h1', {}, error instanceof ApiError && error.status === 404 ? 'Not found' : 'Error'),
      el('p', { class: 'error', id: 'view-error' }, error.message)));
  }
}

function showSignIn(message) {
  signOutButton.hidden = true;
  const key = el('input', { id: 'api-key', type: 'password', placeholder: 'tpc_…', autocomplete: 'off', required: true });
  const error = el('p', { class: 'error', id: 'sign-in-error' }, message ?? '');
  view.replaceChildren(el('form', {
    class: 'card login', id: 'sign-in',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        await signIn(key.value);
        await route();
      } catch (err) {
        error.textContent = err.problem?.errors?.key?.[0] ?? err.message;
      }
    },
  }, el('h1', {}, 'Sign in'), el('p', { class: 'muted' }, 'Paste an API key. It is kept in an HttpOnly cookie for this site only.'),
  key, el('button', { class: 'primary', type: 'submit' }, 'Sign in'), error));
  key.focus();
}

signOutButton.addEventListener('click', async () => {
  await signOut();
  if (cleanup) { cleanup(); cleanup = null; }
  showSignIn('Signed out.');
});
window.addEventListener('hashchange', route);
route();
