// Sweeps: the same job at several alpha_target values, and the trade-off between gap and task metrics.
import { api } from './api.js';
import { el, fmt, when, badge } from './dom.js';
import { tradeOffChart } from './charts.js';

const TRADE_OFFS = [
  { id: 'gap', title: 'Gap reduction', y: 'reduction (%)', match: /reduction/i },
  { id: 'accuracy', title: 'Zero-shot accuracy', y: 'top-1', match: /zero_shot|top1|accuracy/i },
  { id: 'ari', title: 'Joint clustering ARI', y: 'ARI', match: /(^|[._/])ari($|[._/])|joint_ari/i },
  { id: 'cider', title: 'Captioning CIDEr-D', y: 'CIDEr-D', match: /cider/i },
];

export async function sweepsView(root) {
  const page = await api('/v1/sweeps?limit=100');
  root.replaceChildren(el('h1', {}, 'Sweeps'), el('table', { id: 'sweeps' },
    el('tr', {}, ['name', 'status', 'runs', 'created'].map((h) => el('th', {}, h))),
    page.data.map((s) => el('tr', {},
      el('td', {}, el('a', { href: `#/sweeps/${s.id}` }, s.name ?? s.id)),
      el('td', {}, badge(s.status)), el('td', { class: 'num' }, (s.jobs ?? []).length), el('td', {}, when(s.created_at))))));
}

export async function sweepView(root, id) {
  const sweep = await api(`/v1/sweeps/${id}`);
  const tables = Array.isArray(sweep.report) ? sweep.report : [];
  // The trade-off plots use the held-out split when there is one; every split's table is listed below them.
  const main = tables.find((t) => t.split === 'test') ?? tables[0];
  const charts = [];
  const plots = el('div', { class: 'grid' });
  const rows = main ? numericRows(main.rows) : [];
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))];
  for (const t of TRADE_OFFS) {
    const keys = columns.filter((c) => c !== 'alpha_target' && t.match.test(c));
    const points = (k) => rows.filter((r) => r.has('alpha_target') && r.has(k)).map((r) => ({ x: r.get('alpha_target'), y: r.get(k) })).sort((a, b) => a.x - b.x);
    if (!keys.some((k) => points(k).length > 0)) continue;
    const canvas = el('canvas', { id: `tradeoff-${t.id}` });
    plots.append(el('div', { class: 'card' }, el('h2', { style: 'margin-top:0' }, `${t.title} vs alpha_target (${main.split})`), el('div', { class: 'chart' }, canvas)));
    charts.push(() => tradeOffChart(canvas, { xTitle: 'alpha_target', yTitle: t.y, series: keys.map((k) => ({ label: k, points: points(k) })) }));
  }
  root.replaceChildren(
    el('div', { class: 'card' }, el('h1', {}, sweep.name ?? 'sweep', ' ', badge(sweep.status)), el('div', { class: 'muted' }, sweep.id)),
    el('h2', {}, 'Trade-offs'), plots.childElementCount ? plots : el('p', { class: 'muted' }, 'No report yet: it appears when the runs have been evaluated.'),
    ...tables.flatMap((t) => [el('h2', {}, `Report: ${t.split}`), objectTable(t.rows, 'sweep-report'), t.fits?.length ? objectTable(t.fits, 'sweep-fits') : null]),
    el('h2', {}, 'Runs'), el('table', {}, el('tr', {}, ['job', 'alpha_target', 'status', 'phase', 'step'].map((h) => el('th', {}, h))),
      (sweep.jobs ?? []).map((j) => el('tr', {},
        el('td', {}, el('a', { href: `#/jobs/${j.id}` }, j.name ?? j.id)),
        el('td', { class: 'num' }, fmt(j.spec?.alpha_target)),
        el('td', {}, badge(j.status)), el('td', {}, j.phase ?? '–'), el('td', { class: 'num' }, `${j.step} / ${j.total_steps}`)))));
  const made = charts.map((make) => make());
  return () => made.forEach((c) => c.destroy());
}

/** Rows of a report table as maps of their numeric fields. */
function numericRows(rows) {
  return (rows ?? []).map((r) => new Map(Object.entries(r).filter(([, v]) => typeof v === 'number')));
}

/** A table of flat objects (a report's rows or its R^2 fits), columns in the order the service sent them. */
function objectTable(rows, cls) {
  const columns = [...new Set((rows ?? []).flatMap((r) => Object.keys(r)))];
  return el('table', { class: cls }, el('tr', {}, columns.map((c) => el('th', {}, c))),
    (rows ?? []).map((r) => el('tr', {}, columns.map((c) => el('td', { class: typeof r[c] === 'number' ? 'num' : '' }, fmt(r[c]))))));
}
