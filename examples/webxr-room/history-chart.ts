/**
 * A small history chart of the link: RTT (ms, left scale) and kbps in and out (right scale) over the last samples,
 * drawn on a 2D canvas (the page's corner and the panel in VR). A fixed ring of samples: nothing grows.
 */

/** Samples kept: at the overlay's 4 refreshes a second, the last 30 seconds. */
export const HISTORY_SAMPLES = 120;

/** One sample of the link. */
export interface LinkSample {
  rttMs: number;
  kbpsIn: number;
  kbpsOut: number;
}

const SERIES: ReadonlyArray<{ key: keyof LinkSample; color: string; label: string }> = [
  { key: 'rttMs', color: '#ffb35c', label: 'RTT ms' },
  { key: 'kbpsIn', color: '#7ee29a', label: 'in kbps' },
  { key: 'kbpsOut', color: '#6fb6ff', label: 'out kbps' },
];

/** The chart's samples and its drawing. */
export interface HistoryChart {
  push(sample: LinkSample): void;
  /** Samples held, oldest first (for the debug handle). */
  samples(): LinkSample[];
  /** Draws into `g` within the rectangle, with each series' latest value and its scale's top. */
  draw(g: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, fontPx: number): void;
}

/** A scale top that reads well: 1, 2 or 5 times a power of ten, at least `v`. */
function niceTop(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((t) => t >= v) ?? 10 * p;
}

/** An empty chart. */
export function createHistoryChart(): HistoryChart {
  const ring: LinkSample[] = [];
  let next = 0;
  const ordered = () => (ring.length < HISTORY_SAMPLES ? ring : [...ring.slice(next), ...ring.slice(0, next)]);
  return {
    push(sample) {
      if (ring.length < HISTORY_SAMPLES) ring.push(sample);
      else ring[next] = sample;
      next = (next + 1) % HISTORY_SAMPLES;
    },
    samples: () => [...ordered()],
    draw(g, x, y, w, h, fontPx) {
      const data = ordered();
      g.fillStyle = 'rgba(255, 255, 255, 0.06)';
      g.fillRect(x, y, w, h);
      const rttTop = niceTop(Math.max(...data.map((s) => s.rttMs), 1));
      const kbpsTop = niceTop(Math.max(...data.map((s) => Math.max(s.kbpsIn, s.kbpsOut)), 1));
      const step = w / (HISTORY_SAMPLES - 1);
      for (const series of SERIES) {
        const top = series.key === 'rttMs' ? rttTop : kbpsTop;
        g.strokeStyle = series.color;
        g.lineWidth = Math.max(1, fontPx / 10);
        g.beginPath();
        data.forEach((s, i) => {
          const px = x + w - (data.length - 1 - i) * step;
          const py = y + h - (Math.min(s[series.key], top) / top) * h;
          if (i === 0) g.moveTo(px, py);
          else g.lineTo(px, py);
        });
        g.stroke();
      }
      g.font = `${fontPx}px monospace`;
      const last = data[data.length - 1];
      SERIES.forEach((series, i) => {
        g.fillStyle = series.color;
        const value = last ? last[series.key].toFixed(0) : '-';
        g.fillText(`${series.label} ${value}`, x + 4 + (i * w) / 3, y + fontPx);
      });
      g.fillStyle = '#9fb0c8';
      g.fillText(`RTT top ${rttTop} ms, kbps top ${kbpsTop}`, x + 4, y + h - 4);
    },
  };
}
