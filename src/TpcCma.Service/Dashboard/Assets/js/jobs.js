// The job list: status and phase at a glance, filtered by status and searched by name; refreshes itself.
import { api } from './api.js';
import { el, when, badge } from './dom.js';

const STATUSES = ['', 'queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'];

export async function jobsView(root, params) {
  const status = el('select', { id: 'filter-status' }, STATUSES.map((s) => el('option', { value: s }, s || 'any status')));
  const search = el('input', { id: 'filter-search', type: 'search', placeholder: 'search by name' });
  status.value = params.get('status') ?? '';
  search.value = params.get('search') ?? '';
  const body = el('tbody', { id: 'jobs' });
  const more = el('p', { class: 'muted' });
  root.replaceChildren(
    el('h1', {}, 'Jobs'),
    el('div', { class: 'toolbar' }, status, search),
    el('table', {},
      el('thead', {}, el('tr', {}, ['name', 'status', 'phase', 'progress', 'kind', 'created'].map((h) => el('th', {}, h)))),
      body),
    more);

  const load = async () => {
    const query = new URLSearchParams({ limit: '100' });
    if (status.value) query.set('status', status.value);
    if (search.value.trim()) query.set('search', search.value.trim());
    const page = await api(`/v1/jobs?${query}`);
    body.replaceChildren(...page.data.map((j) => el('tr', { 'data-job': j.id },
      el('td', {}, el('a', { href: `#/jobs/${j.id}` }, j.name)),
      el('td', {}, badge(j.status)),
      el('td', {}, j.phase ?? '–'),
      el('td', { class: 'num' }, `${j.step} / ${j.total_steps}`),
      el('td', {}, j.kind),
      el('td', {}, when(j.created_at)))));
    more.textContent = page.data.length === 0 ? 'No jobs match.' : page.has_more ? 'Showing the newest 100.' : '';
  };

  let typing;
  const reload = () => {
    const query = new URLSearchParams();
    if (status.value) query.set('status', status.value);
    if (search.value.trim()) query.set('search', search.value.trim());
    history.replaceState(null, '', `#/${query.size ? `?${query}` : ''}`);
    load();
  };
  status.addEventListener('change', reload);
  search.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(reload, 250); });
  await load();
  const timer = setInterval(() => load().catch(() => {}), 5000);
  return () => { clearInterval(timer); clearTimeout(typing); };
}
