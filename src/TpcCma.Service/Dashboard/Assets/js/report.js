// The before/after table: one row per measured number, one column per evaluation, and the change first -> last.
import { el, fmt } from './dom.js';

const SKIPPED = /(^|\.)(timings|step|pairs|embed_dim|model)(\.|$)/;

/**
 * From job.result.evaluations when the job has them (an array of reports, or an object of reports by label);
 * otherwise from the eval/SPLIT/METRIC curves, first evaluation against last.
 */
export function reportTable(evaluations, store) {
  const columns = fromResult(evaluations) ?? fromCurves(store);
  if (!columns || columns.length === 0) return el('p', { class: 'muted' }, 'No evaluation yet.');
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
  if (!evaluations) return null;
  const entries = Array.isArray(evaluations)
    ? evaluations.map((e, i) => [e.label ?? e.name ?? e.stage ?? (e.step !== undefined ? `step ${e.step}` : `#${i + 1}`), e])
    : Object.entries(evaluations);
  return entries.map(([label, report]) => {
    const values = new Map();
    flatten(report, '', values);
    return { label: report?.split && !String(label).includes(report.split) ? `${label} (${report.split})` : String(label), values };
  });
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
  const steps = [...new Set(names.flatMap((n) => store.series.get(n).steps))].sort((a, b) => a - b);
  const pick = (step) => new Map(names.flatMap((n) => {
    const s = store.series.get(n);
    const i = s.steps.indexOf(step);
    return i < 0 ? [] : [[n.slice('eval/'.length), s.values[i]]];
  }));
  const wanted = steps.length > 1 ? [steps[0], steps[steps.length - 1]] : steps;
  return wanted.map((step) => ({ label: `step ${step}`, values: pick(step) }));
}

function change(before, after) {
  if (typeof before !== 'number' || typeof after !== 'number') return '';
  const delta = after - before;
  const percent = before !== 0 ? ` (${delta >= 0 ? '+' : ''}${((100 * delta) / Math.abs(before)).toFixed(1)} %)` : '';
  return `${delta >= 0 ? '+' : ''}${fmt(delta)}${percent}`;
}
