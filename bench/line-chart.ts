/** One line of a chart: (x, y) points in x order. */
export interface ChartSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

/** A line chart written as a standalone SVG file. */
export interface ChartSpec {
  /** File name in the results directory, e.g. `tick-cost.svg`. */
  file: string;
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: ChartSeries[];
  /** Shown under "No data yet" when there is nothing to plot. */
  emptyNote?: string;
}

const WIDTH = 760;
const HEIGHT = 440;
const LEFT = 80;
const RIGHT = 200; // room for the legend
const TOP = 48;
const BOTTOM = 64;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;
/** Distinguishable on white, colour-blind safe (Okabe-Ito). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

interface Axis {
  map(v: number): number;
  ticks: number[];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Short tick label: 1k, 50k, 2.5M, 0.001. */
function tickLabel(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

function logAxis(min: number, max: number, pixels: number, flip: boolean): Axis {
  let lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    ticks.push(10 ** e);
    if (hi - lo <= 2 && e < hi) ticks.push(2 * 10 ** e, 5 * 10 ** e);
  }
  ticks.sort((a, b) => a - b);
  lo = Math.log10(ticks[0]);
  const span = Math.log10(ticks[ticks.length - 1]) - lo;
  return {
    map: (v) => {
      const f = (Math.log10(v) - lo) / span;
      return flip ? pixels * (1 - f) : pixels * f;
    },
    ticks,
  };
}

function linearAxis(min: number, max: number, pixels: number, flip: boolean): Axis {
  let lo = Math.min(0, min);
  let hi = max > lo ? max : lo + 1;
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(+v.toPrecision(12));
  return {
    map: (v) => {
      const f = (v - lo) / (hi - lo);
      return flip ? pixels * (1 - f) : pixels * f;
    },
    ticks,
  };
}

function frame(spec: ChartSpec, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="26" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(spec.title)}</text>`,
    `<text x="${LEFT + PLOT_W / 2}" y="${HEIGHT - 16}" text-anchor="middle">${escapeXml(spec.xLabel)}${spec.xLog ? ' (log)' : ''}</text>`,
    `<text transform="translate(20 ${TOP + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}${spec.yLog ? ' (log)' : ''}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

/** Renders `spec` as SVG text; an honest "No data yet" chart when no series has a plottable point. */
export function renderLineChart(spec: ChartSpec): string {
  const usable = (x: number, y: number): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0);
  const series = spec.series
    .map((s) => ({ name: s.name, points: s.points.filter(([x, y]) => usable(x, y)) }))
    .filter((s) => s.points.length > 0);
  const box = `<rect x="${LEFT}" y="${TOP}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#888"/>`;
  if (series.length === 0) {
    const note = spec.emptyNote ? escapeXml(spec.emptyNote) : '';
    return frame(
      spec,
      [
        box,
        `<text x="${LEFT + PLOT_W / 2}" y="${TOP + PLOT_H / 2}" text-anchor="middle" font-size="18" fill="#666">No data yet</text>`,
        `<text x="${LEFT + PLOT_W / 2}" y="${TOP + PLOT_H / 2 + 24}" text-anchor="middle" fill="#666">${note}</text>`,
      ].join('\n'),
    );
  }
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xAxis = (spec.xLog ? logAxis : linearAxis)(Math.min(...xs), Math.max(...xs), PLOT_W, false);
  const yAxis = (spec.yLog ? logAxis : linearAxis)(Math.min(...ys), Math.max(...ys), PLOT_H, true);
  const parts: string[] = [];
  for (const t of xAxis.ticks) {
    const x = (LEFT + xAxis.map(t)).toFixed(1);
    parts.push(`<line x1="${x}" y1="${TOP}" x2="${x}" y2="${TOP + PLOT_H}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x}" y="${TOP + PLOT_H + 18}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const y = (TOP + yAxis.map(t)).toFixed(1);
    parts.push(`<line x1="${LEFT}" y1="${y}" x2="${LEFT + PLOT_W}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${LEFT - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`);
  }
  parts.push(box);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.points.map(([x, y]) => `${(LEFT + xAxis.map(x)).toFixed(1)},${(TOP + yAxis.map(y)).toFixed(1)}`);
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"/>`);
    }
    const ly = TOP + 10 + i * 20;
    const lx = LEFT + PLOT_W + 16;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  return frame(spec, parts.join('\n'));
}
