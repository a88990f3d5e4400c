import { addComponent, addEntity, createWorld } from 'bitecs';
import type { World } from 'bitecs';
import { createRandom } from '../src/random.ts';
import { createReplicatedStore } from '../src/index.ts';

/** The seven float fields of a pose, in wire order: position (m) then unit quaternion. */
export const POSE_FIELDS = ['px', 'py', 'pz', 'qx', 'qy', 'qz', 'qw'] as const;

/** One pose field name. */
export type PoseField = (typeof POSE_FIELDS)[number];

/** A bitecs SoA pose component: one Float32Array per field, indexed by entity id. */
export type PoseComponent = Record<PoseField, Float32Array>;

/** Options of {@link createPoseWorkload}. */
export interface PoseWorkloadOptions {
  /** Entities carrying a Pose. */
  entities: number;
  /** Share of the entities that move each step; 10 % is the SPEC's reference load. */
  changedFraction?: number;
  /** Seed of every random choice; equal seeds give equal worlds and equal step sequences. */
  seed: number;
  /**
   * Who allocates the Pose: 'user' (default: one Float32Array per field, as bitecs users do) or 'owned'
   * (`createReplicatedStore`: columns and raw copies in one buffer, the WASM SIMD scan where `wasm` is not false).
   */
  storage?: 'user' | 'owned';
  /** With `storage: 'owned'`: false forces the store onto the JS scan (no WebAssembly memory). */
  wasm?: boolean;
}

/** A bitecs world of posed entities plus a deterministic sequence of changes to it. */
export interface PoseWorkload {
  readonly world: World;
  readonly Pose: PoseComponent;
  /** Entity ids carrying a Pose, ascending (what `query(world, [Pose])` would return). */
  readonly eids: readonly number[];
  readonly entities: number;
  /** Entities changed by each step. */
  readonly changedPerStep: number;
  /** Entity ids changed by the last step, ascending; empty before the first step. Reused between steps. */
  readonly changed: Uint32Array;
  /** Steps taken so far. */
  readonly steps: number;
  /** Moves `changedPerStep` distinct entities a little (the same entities and moves for the same seed). */
  step(): void;
}

/** Default share of entities changed per step (the SPEC's "10 % changed per tick"). */
export const DEFAULT_CHANGED_FRACTION = 0.1;
/** Positions stay within +-10 m: a room-scale VR space. */
const ROOM_HALF_EXTENT_M = 10;
/** A hand or head moves 1-5 cm between two 60 Hz ticks (0.6-3 m/s). */
const MIN_MOVE_M = 0.01;
const MAX_MOVE_M = 0.05;
/** And turns 0.5-3 degrees per tick (30-180 degrees/s). */
const MIN_TURN_RAD = (0.5 * Math.PI) / 180;
const MAX_TURN_RAD = (3 * Math.PI) / 180;

/** Allocates a zeroed Pose component with room for entity ids 0..capacity-1. */
export function createPoseArrays(capacity: number): PoseComponent {
  return {
    px: new Float32Array(capacity),
    py: new Float32Array(capacity),
    pz: new Float32Array(capacity),
    qx: new Float32Array(capacity),
    qy: new Float32Array(capacity),
    qz: new Float32Array(capacity),
    qw: new Float32Array(capacity),
  };
}

/** The Pose in a store ecsync allocates (replicated-store.ts), written like the user-owned arrays. */
export function createOwnedPoseArrays(capacity: number, wasm = true): PoseComponent {
  const f32 = 'f32' as const;
  const schema = { px: f32, py: f32, pz: f32, qx: f32, qy: f32, qz: f32, qw: f32 };
  return createReplicatedStore(schema, { capacity, wasm });
}

/** Largest absolute difference between two Pose components over the given entities. */
export function maxPoseError(a: PoseComponent, b: PoseComponent, eids: readonly number[]): number {
  let max = 0;
  for (const field of POSE_FIELDS) {
    const x = a[field];
    const y = b[field];
    for (let i = 0; i < eids.length; i++) {
      const d = Math.abs(x[eids[i]] - y[eids[i]]);
      if (!(d <= max)) max = d; // NaN counts as the largest error
    }
  }
  return max;
}

/**
 * Builds the shared world that every compared method encodes: realistic poses, `changedFraction` of them moving per step.
 * @example const w = createPoseWorkload({ entities: 10_000, seed: 1 }); w.step(); w.changed.length; // 1000
 */
export function createPoseWorkload(options: PoseWorkloadOptions): PoseWorkload {
  const { entities, changedFraction = DEFAULT_CHANGED_FRACTION, seed, storage = 'user', wasm = true } = options;
  if (!Number.isInteger(entities) || entities < 1)
    throw new Error(`entities must be a positive integer, got ${entities}`);
  if (!(changedFraction > 0 && changedFraction <= 1)) throw new Error(`changedFraction must be in (0, 1]`);
  const random = createRandom(seed);
  const world = createWorld();
  // bitecs 0.4 entity ids start at 1
  const Pose = storage === 'owned' ? createOwnedPoseArrays(entities + 1, wasm) : createPoseArrays(entities + 1);
  const eids: number[] = [];
  for (let i = 0; i < entities; i++) {
    const eid = addEntity(world);
    if (eid >= Pose.px.length) throw new Error(`unexpected entity id ${eid}`);
    addComponent(world, eid, Pose);
    eids.push(eid);
    Pose.px[eid] = random.range(-ROOM_HALF_EXTENT_M, ROOM_HALF_EXTENT_M);
    Pose.py[eid] = random.range(-ROOM_HALF_EXTENT_M, ROOM_HALF_EXTENT_M);
    Pose.pz[eid] = random.range(-ROOM_HALF_EXTENT_M, ROOM_HALF_EXTENT_M);
    writeUnitQuaternion(Pose, eid, random.gaussian(), random.gaussian(), random.gaussian(), random.gaussian());
  }

  const changedPerStep = Math.max(1, Math.round(entities * changedFraction));
  const order = Uint32Array.from(eids); // partial Fisher-Yates over a persistent permutation
  const picked = new Uint32Array(changedPerStep);
  let changed = picked.subarray(0, 0);
  let steps = 0;

  function moveOne(eid: number): void {
    // Position: a random direction, 1-5 cm, reflected back at the room's walls.
    const dx = random.gaussian();
    const dy = random.gaussian();
    const dz = random.gaussian();
    const scale = random.range(MIN_MOVE_M, MAX_MOVE_M) / (Math.hypot(dx, dy, dz) || 1);
    Pose.px[eid] = stayInside(Pose.px[eid], dx * scale);
    Pose.py[eid] = stayInside(Pose.py[eid], dy * scale);
    Pose.pz[eid] = stayInside(Pose.pz[eid], dz * scale);
    // Orientation: q' = r * q, r a 0.5-3 degree turn about a random axis, then renormalised.
    const ax = random.gaussian();
    const ay = random.gaussian();
    const az = random.gaussian();
    const half = random.range(MIN_TURN_RAD, MAX_TURN_RAD) / 2;
    const s = Math.sin(half) / (Math.hypot(ax, ay, az) || 1);
    const rx = ax * s;
    const ry = ay * s;
    const rz = az * s;
    const rw = Math.cos(half);
    const qx = Pose.qx[eid];
    const qy = Pose.qy[eid];
    const qz = Pose.qz[eid];
    const qw = Pose.qw[eid];
    writeUnitQuaternion(
      Pose,
      eid,
      rw * qx + rx * qw + ry * qz - rz * qy,
      rw * qy - rx * qz + ry * qw + rz * qx,
      rw * qz + rx * qy - ry * qx + rz * qw,
      rw * qw - rx * qx - ry * qy - rz * qz,
    );
  }

  return {
    world,
    Pose,
    eids,
    entities,
    changedPerStep,
    get changed() {
      return changed;
    },
    get steps() {
      return steps;
    },
    step() {
      for (let i = 0; i < changedPerStep; i++) {
        const j = i + random.int(entities - i);
        const eid = order[j];
        order[j] = order[i];
        order[i] = eid;
        picked[i] = eid;
      }
      changed = picked;
      changed.sort();
      for (let i = 0; i < changedPerStep; i++) moveOne(changed[i]);
      steps++;
    },
  };
}

function stayInside(value: number, delta: number): number {
  const next = value + delta;
  return Math.abs(next) > ROOM_HALF_EXTENT_M ? value - delta : next;
}

function writeUnitQuaternion(Pose: PoseComponent, eid: number, x: number, y: number, z: number, w: number): void {
  const n = Math.hypot(x, y, z, w);
  if (n === 0) {
    Pose.qx[eid] = Pose.qy[eid] = Pose.qz[eid] = 0;
    Pose.qw[eid] = 1;
    return;
  }
  Pose.qx[eid] = x / n;
  Pose.qy[eid] = y / n;
  Pose.qz[eid] = z / n;
  Pose.qw[eid] = w / n;
}
