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

/** With a summary over seeds: each plot's series, read from the aligned models' estimates (mean and 95 % interval). */
const SUMMARY_SERIES = {
  gap: [['raw gap reduction', 'reductions', 'gap_raw'], ['centroid gap reduction', 'reductions', 'gap_centroid'], ['distribution gap reduction', 'reductions', 'gap_distribution']],
  accuracy: [['zero-shot top-1', 'metrics', 'zero_shot_top1']],
  ari: [['joint ARI', 'metrics', 'joint_ari']],
  cider: [['CIDEr-D image->text', 'metrics', 'cider_image_to_text'], ['CIDEr-D text->text', 'metrics', 'cider_text_to_text']],
};
const SUMMARY_COLUMNS = ['gap_raw', 'gap_centroid', 'gap_distribution', 'gap_mismatch', 'zero_shot_top1', 'joint_ari', 'cider_image_to_text', 'cider_text_to_text'];

export async function sweepView(root, id) {
  const sweep = await api(`/v1/sweeps/${id}`);
  const tables = Array.isArray(sweep.report) ? sweep.report : [];
  // The trade-off plots use the held-out split when there is one; every split's table is listed below them.
  const main = tables.find((t) => t.split === 'test') ?? tables[0];
  const charts = [];
  const plots = el('div', { class: 'grid' });
  for (const t of TRADE_OFFS) {
    const series = main?.summary?.length ? summarySeries(main.summary, t.id) : rowSeries(main, t);
    if (!series.some((s) => s.points.length > 0)) continue;
    const canvas = el('canvas', { id: `tradeoff-${t.id}` });
    plots.append(el('div', { class: 'card' }, el('h2', { style: 'margin-top:0' }, `${t.title} vs alpha_target (${main.split})`), el('div', { class: 'chart' }, canvas)));
    charts.push(() => tradeOffChart(canvas, { xTitle: 'alpha_target', yTitle: t.y, series }));
  }
  // Every method (and the post-hoc baselines) on the same gap-reduction trade-off, the Pareto front marked.
  const methodPlots = el('div', { class: 'grid', id: 'method-tradeoffs' });
  for (const plot of main?.trade_offs ?? []) {
    const canvas = el('canvas', { id: `methods-${plot.metric}` });
    const title = METHOD_PLOT_TITLES[plot.metric] ?? plot.metric;
    methodPlots.append(el('div', { class: 'card' }, el('h2', { style: 'margin-top:0' }, `${title} vs raw gap reduction (${main.split})`), el('div', { class: 'chart' }, canvas)));
    charts.push(() => tradeOffChart(canvas, { xTitle: 'raw gap reduction (%)', yTitle: title, series: methodSeries(plot) }));
  }
  root.replaceChildren(
    el('div', { class: 'card' }, el('h1', {}, sweep.name ?? 'sweep', ' ', badge(sweep.status)), el('div', { class: 'muted' }, sweep.id),
      el('div', { class: 'muted' }, `seeds ${(sweep.seeds ?? []).join(', ')}; `, el('a', { href: `/v1/sweeps/${sweep.id}/results.json`, id: 'sweep-results' }, 'results.json'))),
    el('h2', {}, 'Trade-offs'), plots.childElementCount ? plots : el('p', { class: 'muted' }, 'No report yet: it appears when the runs have been evaluated.'),
    methodPlots.childElementCount ? el('h2', {}, 'Methods compared (Pareto front marked)') : null, methodPlots.childElementCount ? methodPlots : null,
    ...tables.flatMap((t) => [
      el('h2', {}, `Report: ${t.split}`),
      t.summary?.length ? summaryTable(t.summary) : null,
      t.comparisons?.length ? comparisonTable(t.comparisons) : null,
      objectTable(t.rows, 'sweep-report'), t.fits?.length ? objectTable(t.fits, 'sweep-fits') : null]),
    el('h2', {}, 'Runs'), el('table', {}, el('tr', {}, ['job', 'alpha_target', 'seed', 'status', 'phase', 'step'].map((h) => el('th', {}, h))),
      (sweep.jobs ?? []).map((j) => el('tr', {},
        el('td', {}, el('a', { href: `#/jobs/${j.id}` }, j.name ?? j.id)),
        el('td', { class: 'num' }, fmt(j.spec?.alpha_target)), el('td', { class: 'num' }, fmt(j.seed)),
        el('td', {}, badge(j.status)), el('td', {}, j.phase ?? '–'), el('td', { class: 'num' }, `${j.step} / ${j.total_steps}`)))));
  const made = charts.map((make) => make());
  return () => made.forEach((c) => c.destroy());
}

const METHOD_PLOT_TITLES = { zero_shot_top1: 'Zero-shot top-1', joint_ari: 'Joint ARI', cider_image_to_text: 'CIDEr-D image->text' };

/** One series per method (or baseline), its points joined in gap-reduction order, then the Pareto front. */
function methodSeries(plot) {
  const name = (p) => p.method ?? ({ base_centered: 'base + mean-centering', base_centered_noise: 'base + centering + noise (C3)' }[p.model] ?? 'tpc_cma');
  const byX = (a, b) => a.x - b.x;
  const groups = new Map();
  for (const p of plot.points) {
    const key = name(p);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ x: p.gap_reduction, y: p.value, alpha: p.alpha_target });
  }
  const series = [...groups].map(([label, points]) => ({ label, points: points.sort(byX) }));
  series.push({ label: 'Pareto front', points: plot.points.filter((p) => p.pareto).map((p) => ({ x: p.gap_reduction, y: p.value })).sort(byX) });
  return series;
}

/** Series of the aligned models over alpha_target, each point with its interval as yMin/yMax (error bars). */
function summarySeries(summary, plot) {
  const aligned = summary.filter((s) => s.model === 'align').sort((a, b) => a.alpha_target - b.alpha_target);
  return (SUMMARY_SERIES[plot] ?? []).map(([label, part, key]) => ({
    label,
    points: aligned.filter((s) => typeof s[part]?.[key]?.value === 'number').map((s) => {
      const e = s[part][key];
      return { x: s.alpha_target, y: e.value, yMin: typeof e.low === 'number' ? e.low : undefined, yMax: typeof e.high === 'number' ? e.high : undefined };
    }),
  }));
}

/** A report without a summary (one seed): the rows' numeric columns, as before. */
function rowSeries(table, t) {
  const rows = table ? numericRows(table.rows) : [];
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))];
  const points = (k) => rows.filter((r) => r.has('alpha_target') && r.has(k)).map((r) => ({ x: r.get('alpha_target'), y: r.get(k) })).sort((a, b) => a.x - b.x);
  return columns.filter((c) => c !== 'alpha_target' && c !== 'seed' && t.match.test(c)).map((k) => ({ label: k, points: points(k) }));
}

/** "mean ± h", h half the width of the 95 % interval; the interval itself in the cell's title. */
function estimateText(e) {
  if (typeof e?.value !== 'number') return '–';
  if (typeof e.low !== 'number' || typeof e.high !== 'number') return fmt(e.value);
  return `${fmt(e.value)} ± ${fmt((e.high - e.low) / 2)}`;
}

function estimateCell(e) {
  return el('td', { class: 'num', title: typeof e?.low === 'number' ? `95 % interval [${fmt(e.low)}, ${fmt(e.high)}]` : '' }, estimateText(e));
}

function summaryTable(summary) {
  return el('table', { class: 'sweep-summary' },
    el('tr', {}, ['model', 'alpha_target', 'seeds', ...SUMMARY_COLUMNS, 'raw gap reduction %'].map((h) => el('th', {}, h))),
    summary.map((s) => el('tr', {},
      el('td', {}, s.model), el('td', { class: 'num' }, fmt(s.alpha_target)), el('td', { class: 'num' }, fmt(s.seeds)),
      ...SUMMARY_COLUMNS.map((k) => estimateCell(s.metrics?.[k])), estimateCell(s.reductions?.gap_raw))));
}

function comparisonTable(comparisons) {
  return el('table', { class: 'sweep-comparisons' },
    el('tr', {}, ['metric', 'R^2 on G_D', 'R^2 on G_R', 'R^2(G_D) - R^2(G_R)', 'points'].map((h) => el('th', {}, h))),
    comparisons.map((c) => el('tr', {}, el('td', {}, c.metric), el('td', { class: 'num' }, fmt(c.r_squared_distribution)),
      el('td', { class: 'num' }, fmt(c.r_squared_raw)), estimateCell(c.difference), el('td', { class: 'num' }, fmt(c.points)))));
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
