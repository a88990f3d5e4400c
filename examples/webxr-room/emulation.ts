/**
 * Trying the room without a headset: IWER (Meta's WebXR emulation runtime) installs an emulated Quest 3 and its
 * Touch controllers as `navigator.xr`, and a few desktop controls drive them. IWER also emulates tracked hands
 * (XRHand with 25 joints, from recorded Quest hand poses, blended between an open hand and a pinch by a pinch
 * value): H switches the device between controllers and hands. Used with `?emulate`, or by itself when the browser
 * has no WebXR or no immersive-vr device; `?emulate=0` turns it off.
 */
import { metaQuest3, XRDevice } from 'iwer';

/** Height of the emulated eyes above the floor, in metres (a standing adult). */
const EYE_HEIGHT_M = 1.6;
/** The mouse moves the right hand over a plane this far in front of the eyes, in metres. */
const HAND_REACH_M = 0.45;
/** Metres per key press of W/A/S/D, and radians per press of Q/E. */
const STEP_M = 0.1;
const TURN_RAD = Math.PI / 12;

/** True when the page should emulate a headset: asked for, or no immersive-vr device is there. */
export async function shouldEmulate(search: string): Promise<boolean> {
  const asked = new URLSearchParams(search).get('emulate');
  if (asked !== null) return asked !== '0' && asked !== 'false';
  const xr = (navigator as Navigator & { xr?: XRSystem }).xr;
  if (!xr) return true;
  try {
    return !(await xr.isSessionSupported('immersive-vr'));
  } catch {
    return true;
  }
}

/** Installs the emulated Quest 3 as `navigator.xr` (before anything asks for XR) and returns it. */
export function installEmulatedQuest(): XRDevice {
  const device = new XRDevice(metaQuest3, { stereoEnabled: true });
  device.installRuntime({ forceInstall: true });
  device.position.set(0, EYE_HEIGHT_M, 0);
  return device;
}

/**
 * Switches the emulated device between Touch controllers and tracked hands (both hands at once, as on a Quest); the
 * hands take over where the controllers were (and back), so the switch does not move them.
 */
export function setHandInput(device: XRDevice, hands: boolean): void {
  if ((device.primaryInputMode === 'hand') === hands) return;
  for (const side of ['left', 'right'] as const) {
    const [from, to] = hands
      ? [device.controllers[side], device.hands[side]]
      : [device.hands[side], device.controllers[side]];
    if (!from || !to) continue;
    to.position.copy(from.position);
    to.quaternion.copy(from.quaternion);
  }
  device.primaryInputMode = hands ? 'hand' : 'controller';
}

/**
 * Desktop controls of the emulated headset, over `canvas`: the mouse moves the right hand in front of the eyes,
 * the left button (or G) squeezes it to grab (with tracked hands: pinches), T pulls its trigger (select), H switches
 * between controllers and tracked hands, P pinches, W/A/S/D walk, Q/E turn.
 */
export function attachDesktopControls(device: XRDevice, canvas: HTMLElement): void {
  let yaw = 0;
  const hands = () => device.primaryInputMode === 'hand';
  const right = () => (hands() ? device.hands.right : device.controllers.right);
  const pinch = (value: number) => device.hands.right?.updatePinchValue(value);
  const turn = (radians: number) => {
    yaw += radians;
    device.quaternion.set(0, Math.sin(yaw / 2), 0, Math.cos(yaw / 2));
  };
  const squeeze = (value: number) =>
    hands() ? pinch(value) : device.controllers.right?.updateButtonValue('squeeze', value);

  canvas.addEventListener('pointermove', (event) => {
    const hand = right();
    if (!hand) return;
    const rect = canvas.getBoundingClientRect();
    const sx = ((event.clientX - rect.left) / rect.width - 0.5) * 0.8; // -0.4..0.4 m sideways
    const sy = (0.5 - (event.clientY - rect.top) / rect.height) * 0.6 - 0.25; // below the eyes
    const head = device.position;
    // The hand plane turns with the head: forward is (-sin yaw, -cos yaw), right is (cos yaw, -sin yaw).
    hand.position.set(
      head.x + sx * Math.cos(yaw) - HAND_REACH_M * Math.sin(yaw),
      head.y + sy,
      head.z - sx * Math.sin(yaw) - HAND_REACH_M * Math.cos(yaw),
    );
    hand.quaternion.set(0, Math.sin(yaw / 2), 0, Math.cos(yaw / 2));
  });
  canvas.addEventListener('pointerdown', (event) => event.button === 0 && squeeze(1));
  canvas.addEventListener('pointerup', (event) => event.button === 0 && squeeze(0));
  window.addEventListener('keydown', (event) => {
    const p = device.position;
    const move = (forward: number, side: number) =>
      p.set(
        p.x + STEP_M * (side * Math.cos(yaw) - forward * Math.sin(yaw)),
        p.y,
        p.z + STEP_M * (-side * Math.sin(yaw) - forward * Math.cos(yaw)),
      );
    const key = event.key.toLowerCase();
    if (key === 'w') move(1, 0);
    else if (key === 's') move(-1, 0);
    else if (key === 'a') move(0, -1);
    else if (key === 'd') move(0, 1);
    else if (key === 'q') turn(TURN_RAD);
    else if (key === 'e') turn(-TURN_RAD);
    else if (key === 'g' && !event.repeat) squeeze(1);
    else if (key === 't' && !event.repeat) device.controllers.right?.updateButtonValue('trigger', 1);
    else if (key === 'p' && !event.repeat) pinch(1);
    else if (key === 'h' && !event.repeat) setHandInput(device, !hands());
  });
  window.addEventListener('keyup', (event) => {
    const key = event.key.toLowerCase();
    if (key === 'g') squeeze(0);
    else if (key === 't') device.controllers.right?.updateButtonValue('trigger', 0);
    else if (key === 'p') pinch(0);
  });
}
