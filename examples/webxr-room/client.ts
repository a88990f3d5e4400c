/**
 * The page of the WebXR room (browser entry). Emulates a Quest 3 when there is no headset, builds the scene,
 * joins the room, and runs one loop: network in, local poses, grabs, views, network out, overlay, render.
 * `window.__room` is a debug handle for the browser console and the end-to-end tests.
 */
import * as THREE from 'three';
import { query } from 'bitecs';
import { clientIdOf, Networked, vrStatsOf } from '../../src/index.ts';
import { CONDITION_PRESETS, createConditionedTransport } from './conditioned-transport.ts';
import { attachDesktopControls, installEmulatedQuest, setHandInput, shouldEmulate } from './emulation.ts';
import { createOverlay } from './overlay.ts';
import { createPageTransport } from './page-transport.ts';
import { createRoomClient } from './room-client.ts';
import { createRoomScene, grabPointOf, userColor } from './scene.ts';
import { buildModelGlb, MODEL_PICKS } from './room-models.ts';

/** The overlay refreshes this often: readable numbers, and a canvas upload only 4 times a second. */
const OVERLAY_INTERVAL_MS = 250;
/** Without animation frames for this long (a hidden tab), a timer ticks the room instead: well inside a heartbeat. */
const KEEPALIVE_MS = 200;

const emulated = await shouldEmulate(location.search);
const device = emulated ? installEmulatedQuest() : null; // before three's VR button asks navigator.xr
const view = createRoomScene(document.body, { antialias: !emulated });
if (device) attachDesktopControls(device, view.renderer.domElement);

const page = createPageTransport(location);
const conditioned = createConditionedTransport(page.transport);
const client = createRoomClient(conditioned, view);
// Leaving says goodbye, so the others see this user go at once instead of after the resume window.
window.addEventListener('pagehide', () => void client.net.dispose());

// The page's own text overlay is for the desktop view; in VR the panel in the scene shows the same figures.
const hud = document.getElementById('hud') as HTMLElement;
const note = document.getElementById('note') as HTMLElement;
view.renderer.xr.addEventListener('sessionstart', () => (hud.style.display = 'none'));
view.renderer.xr.addEventListener('sessionend', () => (hud.style.display = ''));

let preset = 0;
const overlay = createOverlay(
  view.camera,
  view.controllers,
  document.getElementById('stats') as HTMLElement,
  document.getElementById('link') as HTMLElement,
  () => {
    preset = (preset + 1) % CONDITION_PRESETS.length;
    conditioned.setPreset(CONDITION_PRESETS[preset]);
  },
  document.getElementById('chart') as HTMLCanvasElement | null,
);

/** Server corrections this page's devices received (the VR layer's count). */
const correctionsOf = (): number => {
  const stats = vrStatsOf(client.world);
  return 'corrections' in stats ? stats.corrections : 0;
};

let last = { atMs: performance.now(), bytesIn: 0, bytesOut: 0, kbpsIn: 0, kbpsOut: 0 };
const refreshOverlay = (nowMs: number) => {
  const s = client.net.stats()[0];
  const seconds = (nowMs - last.atMs) / 1000;
  const bytesIn = s?.bytesIn ?? 0;
  const bytesOut = s?.bytesOut ?? 0;
  last = {
    atMs: nowMs,
    bytesIn,
    bytesOut,
    kbpsIn: ((bytesIn - last.bytesIn) * 8) / 1000 / seconds,
    kbpsOut: ((bytesOut - last.bytesOut) * 8) / 1000 / seconds,
  };
  overlay.show({
    state: client.state,
    transport: page.used,
    rttMs: s?.rttMs ?? 0,
    jitterMs: s?.jitterMs ?? 0,
    lossPercent: (s?.lossRatio ?? 0) * 100,
    kbpsIn: last.kbpsIn,
    kbpsOut: last.kbpsOut,
    entities: query(client.world, [Networked]).length,
    corrections: correctionsOf(),
    conditioner: CONDITION_PRESETS[preset]?.label ?? 'off',
    room: client.roomStats(),
    inXR: view.renderer.xr.isPresenting,
  });
  note.textContent = page.note;
  note.style.display = page.note ? '' : 'none';
};

// Shared models: pick one of the generated ones, choose a .glb file, or drop one on the page.
const modelNote = document.getElementById('model-note') as HTMLElement;
const share = (bytes: Uint8Array, name: string): Promise<string> =>
  client.models.share(bytes, name).then(
    (hash) => ((modelNote.textContent = `shared ${name}`), hash),
    (e: unknown) => ((modelNote.textContent = `${name}: ${e instanceof Error ? e.message : e}`), ''),
  );
const shareFiles = async (files: Iterable<File>) => {
  for (const f of files)
    if (f.name.toLowerCase().endsWith('.glb')) await share(new Uint8Array(await f.arrayBuffer()), f.name);
};
const picker = document.getElementById('model-pick') as HTMLSelectElement;
for (const name of Object.keys(MODEL_PICKS)) picker.add(new Option(name, name));
const sharePick = async (name: string) => share(await buildModelGlb(name), name);
(document.getElementById('model-share') as HTMLElement).addEventListener('click', () => void sharePick(picker.value));
const fileInput = document.getElementById('model-file') as HTMLInputElement;
fileInput.addEventListener('change', () => void shareFiles(fileInput.files ?? []));
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  void shareFiles(e.dataTransfer?.files ?? []);
});

/** Debug hooks run after each frame's tick, before it is drawn (the tests drive and sample frames with them). */
const frameHooks = new Set<() => void>();

let xrFrames = 0;
let overlayAtMs = 0;
let tickedAtMs = 0;
let frameAtMs = -1;
view.renderer.setAnimationLoop((_time: number, frame?: XRFrame) => {
  const nowMs = performance.now(); // XR frame times may have another origin than the timers'
  if (frame) xrFrames++;
  // The frame time the user sees: from one rendered frame to the next (the keep-alive ticks below are not frames).
  if (frameAtMs >= 0) client.telemetry.recordFrame(nowMs - frameAtMs);
  frameAtMs = nowMs;
  tickedAtMs = nowMs;
  client.tick(frame);
  for (const hook of frameHooks) hook();
  if (nowMs - overlayAtMs >= OVERLAY_INTERVAL_MS) {
    overlayAtMs = nowMs;
    refreshOverlay(nowMs);
  }
  view.renderer.render(view.scene, view.camera);
});

// A hidden tab gets no animation frames: keep the connection alive (heartbeats, state) from a timer meanwhile.
setInterval(() => {
  const now = performance.now();
  if (now - tickedAtMs < KEEPALIVE_MS) return;
  frameAtMs = -1; // the pause is not a frame
  client.tick(undefined);
}, KEEPALIVE_MS);

/** Moves an emulated controller (or tracked hand) so that its grab point lands on `target`, in room coordinates. */
function reach(hand: 'left' | 'right', target: [number, number, number]): void {
  const controller = view.controllers.find((c) => c.handedness === hand);
  const emulatedHand = device?.primaryInputMode === 'hand' ? device.hands[hand] : device?.controllers[hand];
  if (!controller || !emulatedHand) throw new Error(`no ${hand} controller (enter VR with an emulated headset)`);
  // The grab point (grip, or a hand's pinch point) sits at a fixed offset (in room coordinates, for the current
  // rotation and pinch) from the emulated position.
  const grip = grabPointOf(controller, new THREE.Vector3());
  const { x, y, z } = emulatedHand.position;
  const offset = grip.sub(new THREE.Vector3(x, y, z).applyMatrix4(view.rig.matrixWorld));
  const local = new THREE.Vector3(...target).sub(offset).applyMatrix4(view.rig.matrixWorld.clone().invert());
  emulatedHand.position.set(local.x, local.y, local.z);
}

Object.assign(window, {
  __room: {
    device,
    reach,
    enterVR: () => (document.getElementById('VRButton') as HTMLElement | null)?.click(),
    setPreset: (i: number) => conditioned.setPreset(CONDITION_PRESETS[(preset = i)]),
    status: () => ({
      state: client.state,
      transport: page.used,
      transportNote: page.note,
      emulated,
      inXR: view.renderer.xr.isPresenting,
      xrFrames,
      clientId: clientIdOf(client.world),
      rttMs: client.net.stats()[0]?.rttMs ?? 0,
      overlay: overlay.lines,
      telemetry: client.telemetry.lastReport(),
      roomStats: client.roomStats(),
      panelVisible: overlay.panelVisible,
    }),
    history: () => overlay.history(),
    controllerModels: () => client.controllerModels.loaded(),
    locomotion: () => ({ walkedM: client.locomotion.walkedM, turns: client.locomotion.turns }),
    rig: () => {
      view.rig.updateMatrixWorld();
      return [view.rig.position.x, view.rig.position.y, view.rig.position.z, view.rig.rotation.y];
    },
    views: () => client.views.list(),
    nameTags: () => client.nameTags.list(),
    select: (eid: number) => client.selections.select(eid),
    highlights: () => client.selections.highlights(),
    colorOf: (clientId: number) => userColor(clientId),
    chooseColor: (color: number) => client.colors.choose(color),
    hand: (hand: 'left' | 'right') => client.handPosition(hand),
    /** Where a hand grabs now (a controller's grip, a tracked hand's pinch point), in room coordinates. */
    grabPoint: (hand: 'left' | 'right') => {
      const c = view.controllers.find((k) => k.handedness === hand);
      return c ? grabPointOf(c, new THREE.Vector3()).toArray() : null;
    },
    /** Switches the emulated device between controllers and tracked hands; pinches the emulated right hand. */
    setHands: (on: boolean) => device && setHandInput(device, on),
    pinch: (value: number) => device?.hands.right?.updatePinchValue(value),
    hands: () => client.hands.list(),
    handJoints: (hand: 'left' | 'right') => {
      const j = client.handJoints(hand);
      return j ? [...j] : null;
    },
    grabs: () => ({
      holding: [...client.grabber.holding.values()],
      refused: client.grabber.refused,
      thrown: client.grabber.thrown,
      lastThrow: client.grabber.lastThrow,
    }),
    /** An object's held-objects state here: holder entity, offset, flying flag, own pose. */
    objectState: (eid: number) => {
      const { Attachment: a, Flight: f, Pose: p } = client.room;
      return {
        holder: a.holder[eid],
        offset: [a.ox[eid], a.oy[eid], a.oz[eid], a.qx[eid], a.qy[eid], a.qz[eid], a.qw[eid]],
        flying: f.flying[eid] === 1,
        pose: [p.px[eid], p.py[eid], p.pz[eid]],
      };
    },
    /** The drawn world transforms of entities' views (16 numbers each, column-major), or null without a view. */
    drawnMatrices: (eids: number[]) =>
      eids.map((eid) => (client.views.matrixOf(eid)?.toArray() ?? null) as number[] | null),
    /** Runs `hook` after each frame's tick (before drawing); returns the function that removes it. */
    everyFrame: (hook: () => void) => (frameHooks.add(hook), () => frameHooks.delete(hook)),
    voice: {
      microphone: () => client.voice.microphone,
      setMuted: (muted: boolean) => client.voice.voice.setMuted(muted),
      peers: () => client.voice.voice.peers(),
      levelOf: (clientId: number) => client.voice.voice.levelOf(clientId),
      microphoneLevel: () => client.voice.voice.microphoneLevel(),
      speaking: () => client.voice.voice.speaking,
      isSpeaking: (clientId: number) => client.voice.voice.isSpeaking(clientId),
      stats: () => client.voice.voice.stats(),
      played: () => client.voice.list(),
      signal: (to: number, payload: never) => client.authority.signal(to, payload),
    },
    shareModel: (name: string) => sharePick(name),
    models: () => client.models.list(),
  },
});
