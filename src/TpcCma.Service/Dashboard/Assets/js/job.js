// One job: live curves, phases, gap metrics, before/after report, checkpoints and timeline.
import { api } from './api.js';
import { el, fmt, bytes, when, terminal, badge } from './dom.js';
import { MetricStore, stepChart, refresh, lineStyle } from './charts.js';
import { reportTable } from './report.js';
import { preparedDownload } from './download.js';

export async function jobView(root, id) {
  const job = await api(`/v1/jobs/${id}`);
  const store = new MetricStore();
  const seenEvents = new Set();
  let status = job.status;

  const header = el('div', { class: 'card', id: 'job-header' });
  const canvases = { losses: el('canvas', { id: 'chart-losses' }), alpha: el('canvas', { id: 'chart-alpha' }), gaps: el('canvas', { id: 'chart-gaps' }) };
  const report = el('div', { id: 'job-report' });
  const embeddings = embeddingMaps(id);
  const checkpoints = el('div', { id: 'job-checkpoints' });
  const events = el('table', { id: 'job-events' }, el('tr', {}, el('th', {}, 'step'), el('th', {}, 'kind'), el('th', {}, 'message'), el('th', {}, 'time')));
  root.replaceChildren(
    header,
    el('div', { class: 'grid', style: 'margin-top:16px' },
      card('Losses', canvases.losses), card('Alignment share and pull ratio', canvases.alpha), card('Modality gap at each evaluation', canvases.gaps)),
    el('h2', {}, 'Evaluation report (before / after)'), report,
    el('h2', {}, 'Embeddings, PCA and t-SNE (before / after)'), embeddings.node,
    el('h2', {}, 'Checkpoints'), checkpoints,
    el('h2', {}, 'Timeline'), el('div', { class: 'card events' }, events));

  const charts = {
    losses: stepChart(canvases.losses, {
      yTitle: 'loss',
      datasets: [{ key: 'loss', label: 'total' }, { key: 'clip', label: 'contrastive (clip)' }, { key: 'cma', label: 'alignment (cma)' }],
    }),
    alpha: stepChart(canvases.alpha, {
      yTitle: 'alpha', y1Title: 'b / a',
      datasets: [{ key: 'alpha', label: 'alpha (alignment share)', yAxisID: 'y' }, { key: 'ratio', label: 'pull ratio b/a', yAxisID: 'y1' }],
    }),
    gaps: stepChart(canvases.gaps, { yTitle: 'gap', datasets: [], showPoints: true }),
  };

  const drawCurves = () => {
    const boxes = store.phaseBoxes();
    refresh(charts.losses, { loss: store.points('loss'), clip: store.points('clip'), cma: store.points('cma') }, boxes);
    refresh(charts.alpha, { alpha: store.points('alpha'), ratio: store.pullRatio() }, boxes);
    const gapNames = store.names((n) => /^eval\/[^/]+\/gap_/.test(n));
    if (gapNames.join() !== charts.gaps.data.datasets.map((d) => d.key).join()) {
      charts.gaps.data.datasets = gapNames.map((key, i) => ({ ...lineStyle(i, true), key, label: key.slice('eval/'.length), data: [] }));
    }
    refresh(charts.gaps, Object.fromEntries(gapNames.map((n) => [n, store.points(n)])));
  };

  // Built once and updated in place: a stream message per step must not replace the buttons under the pointer.
  const fields = {
    badge: el('span'), phase: el('span', { id: 'job-phase' }), step: el('span', { id: 'job-step' }), total: el('span'),
    started: el('span'), finished: el('span'), attempts: el('span'), bar: el('div'), error: el('p', { class: 'error', hidden: true }),
    cancel: el('button', { class: 'danger', id: 'cancel-job', type: 'button', onclick: () => cancel() }, 'Cancel job'),
  };
  header.replaceChildren(
    el('h1', {}, job.name, ' ', fields.badge),
    el('div', { class: 'muted' }, `${job.kind} · ${job.id}`),
    el('div', { class: 'facts' },
      fact('phase', fields.phase), fact('step', fields.step, ' / ', fields.total), fact('queue', job.queue), fact('attempts', fields.attempts),
      fact('created', when(job.created_at)), fact('started', fields.started), fact('finished', fields.finished),
      job.sweep ? fact('sweep', el('a', { href: `#/sweeps/${job.sweep}` }, job.sweep.slice(0, 8))) : null),
    el('div', { class: 'progress' }, fields.bar),
    fields.error,
    el('p', {}, fields.cancel),
    el('p', {}, 'PNG: ', ...['losses', 'alpha', 'gaps'].flatMap((n) => [el('a', { href: `/v1/jobs/${id}/plots/${n}.png`, target: '_blank' }, n), ' '])));

  const drawHeader = (j) => {
    status = j.status;
    fields.badge.replaceWith(fields.badge = badge(j.status));
    fields.phase.textContent = j.phase ?? '–';
    fields.step.textContent = String(j.step);
    fields.total.textContent = String(j.total_steps);
    fields.attempts.textContent = String(j.attempts);
    fields.started.textContent = when(j.started_at);
    fields.finished.textContent = when(j.finished_at);
    fields.bar.style.width = `${j.total_steps ? Math.min(100, (100 * j.step) / j.total_steps) : 0}%`;
    fields.error.hidden = !j.error;
    fields.error.textContent = j.error ? `${j.error.code}: ${j.error.message}` : '';
    fields.cancel.hidden = terminal(j.status) || j.status === 'cancelling';
  };

  const cancel = async () => {
    if (!confirm('Cancel this job?')) return;
    drawHeader(await api(`/v1/jobs/${id}/cancel`, { method: 'POST' }));
  };

  const addEvents = (list) => {
    for (const e of list) {
      if (seenEvents.has(e.id)) continue;
      seenEvents.add(e.id);
      events.append(el('tr', {}, el('td', { class: 'num' }, e.step ?? ''), el('td', {}, e.kind), el('td', {}, e.message), el('td', {}, when(e.created_at))));
    }
  };

  const drawCheckpoints = async () => {
    const list = await api(`/v1/jobs/${id}/checkpoints`);
    checkpoints.replaceChildren(list.length === 0 ? el('p', { class: 'muted' }, 'No checkpoint yet.') : el('table', {},
      el('tr', {}, el('th', { class: 'num' }, 'step'), el('th', {}, 'phase'), el('th', { class: 'num' }, 'size'), el('th', {}, 'sha256'), el('th', {}, 'download')),
      list.map((c) => el('tr', {},
        el('td', { class: 'num' }, c.step), el('td', {}, c.phase), el('td', { class: 'num' }, bytes(c.size_bytes)),
        el('td', { title: c.sha256 }, el('code', {}, c.sha256.slice(0, 12))),
        el('td', {}, c.formats.flatMap((f) => [preparedDownload(`/v1/jobs/${id}/checkpoints/${c.step}/download?format=${f}`, f), ' ']))))));
  };

  const drawReport = (j) => report.replaceChildren(reportTable(j.result?.evaluations, store));

  drawHeader(job);
  store.merge(await api(`/v1/jobs/${id}/metrics`));
  drawCurves();
  drawReport(job);
  addEvents((await api(`/v1/jobs/${id}/events`)).data);
  await drawCheckpoints();

  // Live: the stream replays what is new; reconnects resend from the start and the store keeps each step once.
  const source = new EventSource(`/v1/jobs/${id}/stream`);
  let pending = false;
  source.addEventListener('job', (m) => drawHeader({ ...job, ...JSON.parse(m.data) }));
  source.addEventListener('metrics', (m) => {
    if (!store.merge(JSON.parse(m.data)) || pending) return;
    pending = true;   // one redraw per animation frame, however many messages arrive
    requestAnimationFrame(() => { pending = false; drawCurves(); });
  });
  source.addEventListener('event', async (m) => {
    const e = JSON.parse(m.data);
    addEvents([e]);
    if (e.kind === 'checkpoint') await drawCheckpoints();
    if (['evaluation', 'completed', 'status'].includes(e.kind)) drawReport(await api(`/v1/jobs/${id}`));
    if (e.kind === 'evaluation') embeddings.reload();
  });
  source.addEventListener('error', () => { if (terminal(status)) source.close(); });

  return () => { source.close(); Object.values(charts).forEach((c) => c.destroy()); };
}

// The base and the final model's maps side by side, from /plots/embeddings.png; a map that does not exist yet stays hidden.
function embeddingMaps(id) {
  const image = (evaluation) => el('img', {
    id: `embeddings-${evaluation}`, alt: `embeddings at ${evaluation}`, style: 'width:100%', hidden: true,
    onload: (e) => { e.target.hidden = false; }, onerror: (e) => { e.target.hidden = true; },
  });
  const images = { base: image('base'), final: image('final') };
  const reload = () => {
    for (const [evaluation, img] of Object.entries(images)) {
      img.src = `/v1/jobs/${id}/plots/embeddings.png?evaluation=${evaluation}&width=700&height=900&t=${Date.now()}`;
    }
  };
  reload();
  return { node: el('div', { class: 'grid' }, el('div', { class: 'card' }, images.base), el('div', { class: 'card' }, images.final)), reload };
}

function card(title, canvas) {
  return el('div', { class: 'card' }, el('h2', { style: 'margin-top:0' }, title), el('div', { class: 'chart' }, canvas));
}

function fact(label, ...value) {
  return el('div', {}, el('span', {}, label), ...value.map((v) => (v instanceof Node ? v : fmt(v))));
}
