/**
 * The stats overlay: a panel that hangs in front of the eyes (in VR and on the desktop alike) showing the
 * connection's RTT, jitter, loss, kbps in and out, entities in interest, corrections and state, with a button that
 * cycles the link conditioner. In VR, point at the panel and pull the trigger; on the desktop, click the
 * "link" button in the page's corner or press L. Below the figures, a chart of the RTT and kbps of the last
 * 30 seconds. On the desktop the page's corner shows all of it, so the panel is hidden there and the objects stay
 * in view; it hangs in front of the eyes only inside an XR session.
 */
import * as THREE from 'three';
import { createHistoryChart } from './history-chart.ts';
import type { RoomStatsView } from './room-telemetry.ts';
import type { LocalController } from './scene.ts';

/** Canvas size of the panel texture, in pixels (4:3): eight lines of 26 px text above the chart. */
const CANVAS_W = 512;
const CANVAS_H = 384;
/** The chart's strip at the bottom of the panel texture, below the eight lines, in pixels. */
const CHART_AT_Y = 274;
const CHART_H = 100;
/**
 * Panel size in metres (4:3 like the canvas), and where it hangs relative to the eyes: low on the left at arm's
 * length, below the line to the objects in front of the user.
 */
const PANEL_W_M = 0.27;
const PANEL_H_M = 0.2025;
const PANEL_AT: [number, number, number] = [-0.2, -0.24, -0.6];

/** The overlay's figures, as the page computes them. */
export interface OverlayFigures {
  state: string;
  transport: string;
  rttMs: number;
  jitterMs: number;
  lossPercent: number;
  kbpsIn: number;
  kbpsOut: number;
  entities: number;
  corrections: number;
  conditioner: string;
  /** The room's aggregate (the server's telemetry of every page), or null before it arrives. */
  room: RoomStatsView | null;
  /** True inside an XR session: the panel shows; on the desktop only the page's corner does. */
  inXR: boolean;
}

/** The overlay of one page. */
export interface Overlay {
  /** Redraws the panel (and the page's text copy). */
  show(figures: OverlayFigures): void;
  /** The lines last shown, for the debug handle. */
  readonly lines: readonly string[];
  /** The link samples the chart draws, oldest first. */
  history(): Array<{ rttMs: number; kbpsIn: number; kbpsOut: number }>;
  /** Whether the in-scene panel is shown. */
  readonly panelVisible: boolean;
}

/** Formats the figures as the panel's lines. */
export function overlayLines(f: OverlayFigures): string[] {
  return [
    `${f.state} via ${f.transport || '...'}`,
    `RTT ${f.rttMs.toFixed(0)} ms  jitter ${f.jitterMs.toFixed(1)} ms`,
    `loss ${f.lossPercent.toFixed(1)} %`,
    `in ${f.kbpsIn.toFixed(1)} kbps  out ${f.kbpsOut.toFixed(1)} kbps`,
    `entities ${f.entities}  corrections ${f.corrections}`,
    f.room
      ? `room ${f.room.clients} users RTT ${f.room.rttP50Ms.toFixed(0)}/${f.room.rttP95Ms.toFixed(0)} ms`
      : 'room: no telemetry yet',
    f.room
      ? `room frame p95 ${f.room.frameP95P95Ms.toFixed(1)} ms ${(f.room.kbpsIn + f.room.kbpsOut).toFixed(0)} kbps`
      : '',
    `[ link: ${f.conditioner} ]`,
  ];
}

/** Hangs the panel from `camera`; `onToggle` runs when the user asks for the next conditioner preset. */
export function createOverlay(
  camera: THREE.Camera,
  controllers: readonly LocalController[],
  textElement: HTMLElement,
  toggleButton: HTMLElement,
  onToggle: () => void,
  chartCanvas: HTMLCanvasElement | null = null,
): Overlay {
  const chart = createHistoryChart();
  const chartContext = chartCanvas?.getContext('2d') ?? null;
  const canvas = document.createElement('canvas');
  canvas.width = CANVAS_W;
  canvas.height = CANVAS_H;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  const panel = new THREE.Mesh(
    new THREE.PlaneGeometry(PANEL_W_M, PANEL_H_M),
    new THREE.MeshBasicMaterial({ map: texture, transparent: true, depthTest: false }),
  );
  panel.renderOrder = 10; // drawn over the room, never hidden inside an object
  panel.position.set(...PANEL_AT);
  camera.add(panel);

  // VR: the trigger while a controller's ray points at the panel.
  const raycaster = new THREE.Raycaster();
  for (const c of controllers) {
    c.ray.addEventListener('select', () => {
      raycaster.ray.origin.setFromMatrixPosition(c.ray.matrixWorld);
      raycaster.ray.direction.set(0, 0, -1).transformDirection(c.ray.matrixWorld);
      if (raycaster.intersectObject(panel).length > 0) onToggle();
    });
  }
  toggleButton.addEventListener('click', onToggle);
  window.addEventListener('keydown', (e) => e.key.toLowerCase() === 'l' && onToggle());

  const overlay = {
    lines: [] as string[],
    history: () => chart.samples(),
    get panelVisible() {
      return panel.visible;
    },
    show(figures: OverlayFigures) {
      chart.push({ rttMs: figures.rttMs, kbpsIn: figures.kbpsIn, kbpsOut: figures.kbpsOut });
      if (chartCanvas && chartContext) {
        chartContext.clearRect(0, 0, chartCanvas.width, chartCanvas.height);
        chart.draw(chartContext, 0, 0, chartCanvas.width, chartCanvas.height, 11);
      }
      panel.visible = figures.inXR;
      const lines = overlayLines(figures);
      overlay.lines = lines;
      textElement.textContent = lines.join('\n');
      toggleButton.textContent = `link: ${figures.conditioner} (L)`;
      ctx.clearRect(0, 0, CANVAS_W, CANVAS_H);
      ctx.fillStyle = 'rgba(10, 14, 22, 0.78)';
      ctx.beginPath();
      ctx.roundRect(0, 0, CANVAS_W, CANVAS_H, 18);
      ctx.fill();
      ctx.font = '26px monospace';
      lines.forEach((line, i) => {
        ctx.fillStyle = i === 0 ? (figures.state === 'connected' ? '#7ee29a' : '#ffb35c') : '#e8eef8';
        if (line.startsWith('room')) ctx.fillStyle = '#8fd0ff';
        if (i === lines.length - 1) ctx.fillStyle = figures.conditioner === 'off' ? '#9fb0c8' : '#ffb35c';
        ctx.fillText(line, 18, 34 + i * 32, CANVAS_W - 36); // long preset labels are squeezed, not cut
      });
      chart.draw(ctx, 18, CHART_AT_Y, CANVAS_W - 36, CHART_H, 20);
      texture.needsUpdate = true;
    },
  };
  return overlay;
}
