// Chart.js wiring: the job's curves as {x: step, y: value} points, the curriculum's phases as annotation boxes.
/* global Chart */
Chart.register(window['chartjs-plugin-annotation']);

const PHASES = {
  1: { name: 'anchor', color: 'rgba(70, 130, 180, 0.10)' },
  2: { name: 'ramp', color: 'rgba(255, 165, 0, 0.14)' },
  3: { name: 'consolidate', color: 'rgba(46, 139, 87, 0.12)' },
};
const PALETTE = ['#1d2433', '#2d5bd7', '#c0392b', '#1e8e4e', '#8e44ad', '#d68910', '#17a2b8', '#7f8c8d'];

/** Every curve of one job, merged from /metrics and the stream; a point is kept once per step. */
export class MetricStore {
  constructor() { this.series = new Map(); }

  /** Adds the points newer than what is held; returns whether anything was added. */
  merge(list) {
    let added = false;
    for (const { name, steps, values } of list) {
      let s = this.series.get(name);
      if (!s) this.series.set(name, s = { steps: [], values: [] });
      const last = s.steps.length ? s.steps[s.steps.length - 1] : -Infinity;
      for (let i = 0; i < steps.length; i++) {
        if (steps[i] <= last) continue;
        s.steps.push(steps[i]);
        s.values.push(values[i]);
        added = true;
      }
    }
    return added;
  }

  points(name) {
    const s = this.series.get(name);
    return s ? s.steps.map((x, i) => ({ x, y: s.values[i] })) : [];
  }

  /** b/a per step: the alignment pull relative to the contrastive pull on the embeddings. */
  pullRatio() {
    const a = this.series.get('a'), b = this.series.get('b');
    if (!a || !b) return [];
    const aAt = new Map(a.steps.map((step, i) => [step, a.values[i]]));
    return b.steps.flatMap((x, i) => (aAt.get(x) > 0 ? [{ x, y: b.values[i] / aAt.get(x) }] : []));
  }

  names(predicate) { return [...this.series.keys()].filter(predicate).sort(); }

  lastStep() {
    const loss = this.series.get('loss');
    return loss?.steps.length ? loss.steps[loss.steps.length - 1] : null;
  }

  /** Runs of equal 'phase' values as boxes from the step before the run to its last step. */
  phaseBoxes() {
    const s = this.series.get('phase');
    const boxes = {};
    if (!s || !s.steps.length) return boxes;
    let start = 0;
    for (let i = 1; i <= s.steps.length; i++) {
      if (i < s.steps.length && s.values[i] === s.values[start]) continue;
      const phase = PHASES[s.values[start]];
      if (phase) {
        boxes[`phase${start}`] = {
          type: 'box', drawTime: 'beforeDatasetsDraw', borderWidth: 0, backgroundColor: phase.color,
          xMin: start === 0 ? s.steps[0] - 1 : s.steps[start - 1], xMax: s.steps[i - 1],
          label: { display: true, content: phase.name, position: { x: 'center', y: 'start' }, color: '#6b7385', font: { size: 11, weight: 'normal' } },
        };
      }
      start = i;
    }
    return boxes;
  }
}

/** A line chart over steps; each dataset may name the y axis it uses ('y' left, 'y1' right). */
export function stepChart(canvas, { yTitle, y1Title, datasets, showPoints = false }) {
  const scales = {
    x: { type: 'linear', title: { display: true, text: 'step' } },
    y: { title: { display: true, text: yTitle } },
  };
  if (y1Title) scales.y1 = { position: 'right', title: { display: true, text: y1Title }, grid: { drawOnChartArea: false } };
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: datasets.map((d, i) => ({ ...lineStyle(i, showPoints), ...d, data: [] })) },
    options: {
      animation: false, parsing: false, normalized: true, maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales,
      plugins: {
        decimation: { enabled: true, algorithm: 'lttb', samples: 800 },
        annotation: { annotations: {} },
        legend: { labels: { boxWidth: 12 } },
      },
    },
  });
}

/** A chart with one x value per run (a sweep's alpha_target), points joined in x order. */
/** Points may carry yMin and yMax (a 95 % interval): drawn as error bars, and the y axis widened to hold them. */
export function tradeOffChart(canvas, { xTitle, yTitle, series }) {
  const bounds = series.flatMap((s) => s.points.flatMap((p) => [p.yMin, p.yMax])).filter((v) => Number.isFinite(v));
  const y = { title: { display: true, text: yTitle } };
  if (bounds.length) Object.assign(y, { suggestedMin: Math.min(...bounds), suggestedMax: Math.max(...bounds) });
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: series.map((s, i) => ({ ...lineStyle(i, true), label: s.label, data: s.points })) },
    options: {
      animation: false, maintainAspectRatio: false,
      scales: { x: { type: 'linear', title: { display: true, text: xTitle } }, y },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
    plugins: [errorBars],
  });
}

/** Draws each point's [yMin, yMax] as a vertical bar with caps, in its dataset's colour. */
const errorBars = {
  id: 'errorBars',
  afterDatasetsDraw(chart) {
    const { ctx, scales } = chart;
    chart.data.datasets.forEach((dataset, i) => {
      const meta = chart.getDatasetMeta(i);
      if (meta.hidden) return;
      meta.data.forEach((point, j) => {
        const raw = dataset.data[j];
        if (!Number.isFinite(raw?.yMin) || !Number.isFinite(raw?.yMax)) return;
        const [top, bottom] = [scales.y.getPixelForValue(raw.yMax), scales.y.getPixelForValue(raw.yMin)];
        ctx.save();
        ctx.strokeStyle = dataset.borderColor;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(point.x, top); ctx.lineTo(point.x, bottom);
        ctx.moveTo(point.x - 4, top); ctx.lineTo(point.x + 4, top);
        ctx.moveTo(point.x - 4, bottom); ctx.lineTo(point.x + 4, bottom);
        ctx.stroke();
        ctx.restore();
      });
    });
  },
};

export function lineStyle(i, showPoints) {
  const color = PALETTE[i % PALETTE.length];
  return { borderColor: color, backgroundColor: color, borderWidth: 1.5, pointRadius: showPoints ? 3 : 0, tension: 0 };
}

/** Replaces a chart's datasets' points (by dataset key) and its phase boxes, then redraws without animation. */
export function refresh(chart, pointsByKey, boxes) {
  for (const dataset of chart.data.datasets) dataset.data = pointsByKey[dataset.key] ?? [];
  if (boxes) chart.options.plugins.annotation.annotations = boxes;
  chart.update('none');
}
