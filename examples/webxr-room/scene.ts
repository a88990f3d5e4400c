/**
 * The three.js side of the room: renderer with WebXR, a floor, simple lighting, the desktop camera, the local
 * controllers, the meshes of heads, hands and objects, and the rig that puts each user at their place around the
 * objects (WebXR poses are relative to the user's own floor; the rig maps them into room coordinates). Knows
 * nothing of networking.
 */
import * as THREE from 'three';
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { seatOf } from './protocol.ts';

/** Colours of users by client id (wrapping), chosen to read well against the floor and each other. */
export const USER_COLORS: readonly number[] = [
  0x4f9dff, 0xff6b5a, 0x57d38c, 0xf2c14e, 0xb07cff, 0x3fd0d4, 0xff8fcf, 0xc9c9c9,
];

/** Colours users chose on entry (avatar.ts keeps it in step with awareness); one page has one room. */
const chosenColors = new Map<number, number>();

/** Records the colour `clientId` chose (null: back to their seat's colour). */
export function chooseUserColor(clientId: number, color: number | null): void {
  if (color === null) chosenColors.delete(clientId);
  else chosenColors.set(clientId, color);
}

/** Colour of a user: the one they chose, else their seat's. */
export function userColor(clientId: number): number {
  return chosenColors.get(clientId) ?? USER_COLORS[(Math.max(1, clientId) - 1) % USER_COLORS.length];
}

/**
 * One local input source: its grip (where the hand is) and target ray, with the handedness once known; when the
 * source is a tracked hand, `hand` holds its joints (three updates them from the XR frame) and `isHand` is set.
 */
export interface LocalController {
  grip: THREE.XRGripSpace;
  ray: THREE.XRTargetRaySpace;
  hand: THREE.XRHandSpace;
  handedness: XRHandedness | '';
  /** True while this input source is a tracked hand (XRHand), false for a controller. */
  isHand: boolean;
  /** The local hand's own mesh, attached to the grip. */
  mesh: THREE.Mesh;
}

const tipA = new THREE.Vector3();

/**
 * Where `c` grabs, in room coordinates, into `out`: a controller's grip, or a tracked hand's pinch point (between
 * its thumb and index fingertips). Call after the scene's world matrices are updated for this frame.
 */
export function grabPointOf(c: LocalController, out: THREE.Vector3): THREE.Vector3 {
  const thumb = c.hand.joints['thumb-tip'];
  const index = c.hand.joints['index-finger-tip'];
  if (!c.isHand || !thumb || !index) return out.setFromMatrixPosition(c.grip.matrixWorld);
  tipA.setFromMatrixPosition(thumb.matrixWorld);
  return out.setFromMatrixPosition(index.matrixWorld).add(tipA).multiplyScalar(0.5);
}

/** The scene and what the rest of the page touches. */
export interface RoomScene {
  renderer: THREE.WebGLRenderer;
  scene: THREE.Scene;
  camera: THREE.PerspectiveCamera;
  controllers: LocalController[];
  /** Places the user (the rig) at the seat of `clientId`. */
  sitAt(clientId: number): void;
  /** The user's tracking origin in the room: holds the camera and controllers, placed at the seat. */
  readonly rig: THREE.Group;
}

/** Builds the renderer, scene and XR button inside `container`. */
export function createRoomScene(container: HTMLElement, options: { antialias: boolean }): RoomScene {
  const renderer = new THREE.WebGLRenderer({ antialias: options.antialias });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
  renderer.setSize(window.innerWidth, window.innerHeight);
  renderer.xr.enabled = true;
  renderer.xr.setReferenceSpaceType('local-floor');
  container.appendChild(renderer.domElement);
  container.appendChild(VRButton.createButton(renderer, { optionalFeatures: ['local-floor', 'hand-tracking'] }));

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x1d2430);
  scene.add(new THREE.HemisphereLight(0xdde8ff, 0x30343c, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(2, 4, 1);
  scene.add(sun);
  const floor = new THREE.Mesh(
    new THREE.CircleGeometry(4, 48).rotateX(-Math.PI / 2),
    new THREE.MeshStandardMaterial({ color: 0x4a5568, roughness: 0.9 }),
  );
  scene.add(floor, new THREE.GridHelper(8, 16, 0x8899aa, 0x5a6677));

  // The rig is the user's tracking origin, standing at their seat: the camera and the controllers move inside it.
  const rig = new THREE.Group();
  scene.add(rig);
  const camera = new THREE.PerspectiveCamera(70, window.innerWidth / window.innerHeight, 0.05, 50);
  camera.position.set(0, 1.6, 0); // desktop view: standing, looking slightly down at the objects
  camera.rotation.set(-0.3, 0, 0);
  rig.add(camera); // the overlay hangs from it
  window.addEventListener('resize', () => {
    camera.aspect = window.innerWidth / window.innerHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(window.innerWidth, window.innerHeight);
  });

  const controllers: LocalController[] = [0, 1].map((i) => {
    const grip = renderer.xr.getControllerGrip(i);
    const ray = renderer.xr.getController(i);
    const hand = renderer.xr.getHand(i);
    const mesh = createHandMesh(0xffffff);
    grip.add(mesh);
    const c: LocalController = { grip, ray, hand, handedness: '', isHand: false, mesh };
    ray.addEventListener('connected', (e) => {
      c.handedness = e.data.handedness;
      c.isHand = !!e.data.hand;
    });
    ray.addEventListener('disconnected', () => {
      c.handedness = '';
      c.isHand = false;
    });
    rig.add(grip, ray, hand);
    return c;
  });

  let seatedAs = 0;
  return {
    renderer,
    scene,
    camera,
    controllers,
    rig,
    sitAt(clientId) {
      if (clientId === seatedAs) return;
      seatedAs = clientId;
      const seat = seatOf(clientId);
      rig.position.set(seat.x, 0, seat.z);
      rig.rotation.set(0, seat.yaw, 0);
      rig.updateMatrixWorld(true);
    },
  };
}

/** A head: a sphere with a dark visor and a nose on its -z side (the way it looks). */
export function createHeadMesh(color: number): THREE.Object3D {
  const head = new THREE.Group();
  const skin = new THREE.MeshStandardMaterial({ color });
  head.add(new THREE.Mesh(new THREE.SphereGeometry(0.11, 20, 14), skin));
  const nose = new THREE.Mesh(new THREE.ConeGeometry(0.025, 0.06, 12).rotateX(-Math.PI / 2), skin);
  nose.position.set(0, -0.035, -0.11);
  head.add(nose);
  const visor = new THREE.Mesh(
    new THREE.BoxGeometry(0.17, 0.07, 0.06),
    new THREE.MeshStandardMaterial({ color: 0x111111, roughness: 0.3 }),
  );
  visor.position.set(0, 0.01, -0.09);
  head.add(visor);
  return head;
}

/** A hand: a rounded block the size of a Touch controller grip. */
export function createHandMesh(color: number): THREE.Mesh {
  return new THREE.Mesh(new THREE.BoxGeometry(0.06, 0.05, 0.12), new THREE.MeshStandardMaterial({ color }));
}

/** A grabbable object of `shape`. */
export function createObjectMesh(shape: string, color: number): THREE.Mesh {
  const geometry =
    shape === 'ball'
      ? new THREE.SphereGeometry(0.07, 24, 16)
      : shape === 'ring'
        ? new THREE.TorusGeometry(0.07, 0.025, 12, 32)
        : new THREE.BoxGeometry(0.12, 0.12, 0.12);
  return new THREE.Mesh(geometry, new THREE.MeshStandardMaterial({ color, roughness: 0.5, emissive: 0x000000 }));
}
