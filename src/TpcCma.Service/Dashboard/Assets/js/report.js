// The before/after table: one row per measured number, one column per evaluation, and the change first -> last.
import { el, fmt } from './dom.js';

const SKIPPED = /(^|\.)(timings|step|pairs|embed_dim)(\.|$)/;

/**
 * One table per split. From job.result.evaluations when the job has them ({step, label, report} records: base,
 * base_centered, phase ends, final); otherwise from the eval/SPLIT/METRIC curves, first evaluation against last.
 */
export function reportTable(evaluations, store) {
  const splits = fromResult(evaluations) ?? fromCurves(store);
  if (!splits || splits.size === 0) return el('p', { class: 'muted' }, 'No evaluation yet.');
  return el('div', {}, [...splits].map(([split, columns]) => el('div', {}, splits.size > 1 ? el('h3', {}, `split: ${split}`) : null, table(columns))));
}

function table(columns) {
  const rows = [...new Set(columns.flatMap((c) => [...c.values.keys()]))];
  const first = columns[0], last = columns[columns.length - 1];
  return el('table', { class: 'report' },
    el('tr', {}, el('th', {}, 'metric'), columns.map((c) => el('th', { class: 'num' }, c.label)), columns.length > 1 ? el('th', { class: 'num' }, 'change') : null),
    rows.map((row) => el('tr', {},
      el('td', {}, row),
      columns.map((c) => el('td', { class: 'num' }, fmt(c.values.get(row)))),
      columns.length > 1 ? el('td', { class: 'num' }, change(first.values.get(row), last.values.get(row))) : null)));
}

function fromResult(evaluations) {
  if (!Array.isArray(evaluations) || evaluations.length === 0) return null;
  const splits = new Map();
  for (const e of evaluations) {
    const report = e.report ?? e;
    const split = report.split ?? '';
    const values = new Map();
    flatten(report, '', values);
    if (!splits.has(split)) splits.set(split, []);
    splits.get(split).push({ label: e.label ?? `step ${e.step}`, values });
  }
  return splits;
}

function flatten(value, path, into) {
  if (typeof value === 'number' && !SKIPPED.test(path)) into.set(path, value);
  else if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, into);
  }
}

function fromCurves(store) {
  const names = store.names((n) => n.startsWith('eval/'));
  if (names.length === 0) return null;
  const splits = new Map();
  for (const split of new Set(names.map((n) => n.split('/')[1]))) {
    const mine = names.filter((n) => n.split('/')[1] === split);
    const steps = [...new Set(mine.flatMap((n) => store.series.get(n).steps))].sort((a, b) => a - b);
    const pick = (step) => new Map(mine.flatMap((n) => {
      const s = store.series.get(n);
      const i = s.steps.indexOf(step);
      return i < 0 ? [] : [[n.split('/').slice(2).join('/'), s.values[i]]];
    }));
    const wanted = steps.length > 1 ? [steps[0], steps[steps.length - 1]] : steps;
    splits.set(split, wanted.map((step) => ({ label: `step ${step}`, values: pick(step) })));
  }
  return splits;
}

function change(before, after) {
  if (typeof before !== 'number' || typeof after !== 'number') return '';
  const delta = after - before;
  const percent = before !== 0 ? ` (${delta >= 0 ? '+' : ''}${((100 * delta) / Math.abs(before)).toFixed(1)} %)` : '';
  return `${delta >= 0 ? '+' : ''}${fmt(delta)}${percent}`;
}
