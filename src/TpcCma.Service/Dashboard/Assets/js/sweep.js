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
  const rows = reportRows(sweep.report);
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))];
  const xKey = columns.find((c) => c === 'alpha_target' || c.endsWith('.alpha_target'));
  const charts = [];
  const plots = el('div', { class: 'grid' });
  for (const t of TRADE_OFFS) {
    const keys = columns.filter((c) => c !== xKey && t.match.test(c));
    if (!xKey || keys.length === 0) continue;
    const canvas = el('canvas', { id: `tradeoff-${t.id}` });
    plots.append(el('div', { class: 'card' }, el('h2', { style: 'margin-top:0' }, `${t.title} vs alpha_target`), el('div', { class: 'chart' }, canvas)));
    charts.push(() => tradeOffChart(canvas, {
      xTitle: 'alpha_target', yTitle: t.y,
      series: keys.map((k) => ({
        label: k,
        points: rows.filter((r) => r.has(xKey) && r.has(k)).map((r) => ({ x: r.get(xKey), y: r.get(k) })).sort((a, b) => a.x - b.x),
      })),
    }));
  }
  const jobs = (sweep.jobs ?? []).map((j) => (typeof j === 'string' ? { id: j } : j));
  root.replaceChildren(
    el('div', { class: 'card' }, el('h1', {}, sweep.name ?? 'sweep', ' ', badge(sweep.status)), el('div', { class: 'muted' }, sweep.id)),
    el('h2', {}, 'Trade-offs'), plots.childElementCount ? plots : el('p', { class: 'muted' }, 'No report yet: it appears when the runs have been evaluated.'),
    el('h2', {}, 'Report'), rows.length ? el('table', { id: 'sweep-report' },
      el('tr', {}, columns.map((c) => el('th', { class: 'num' }, c))),
      rows.map((r) => el('tr', {}, columns.map((c) => el('td', { class: 'num' }, fmt(r.get(c))))))) : el('p', { class: 'muted' }, '–'),
    el('h2', {}, 'Runs'), el('table', {}, el('tr', {}, ['job', 'alpha_target', 'status', 'step'].map((h) => el('th', {}, h))),
      jobs.map((j) => el('tr', {},
        el('td', {}, el('a', { href: `#/jobs/${j.id}` }, j.name ?? j.id)),
        el('td', { class: 'num' }, fmt(j.spec?.alpha_target ?? j.alpha_target)),
        el('td', {}, j.status ? badge(j.status) : ''), el('td', { class: 'num' }, j.step ?? '')))));
  const made = charts.map((make) => make());
  return () => made.forEach((c) => c.destroy());
}

/** The report as rows of numbers by column name: an array of objects, {rows: [...]}, or {columns, rows: [[...]]}. */
function reportRows(report) {
  if (!report) return [];
  let rows = Array.isArray(report) ? report : report.rows ?? report.runs ?? [];
  if (Array.isArray(report.columns)) rows = rows.map((r) => (Array.isArray(r) ? Object.fromEntries(report.columns.map((c, i) => [c, r[i]])) : r));
  return rows.map((r) => {
    const values = new Map();
    const walk = (v, path) => {
      if (typeof v === 'number') values.set(path, v);
      else if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    };
    walk(r, '');
    return values;
  });
}
