/**
 * Held objects follow their holder's hand. When a grab is granted, the object's pose relative to the hand is
 * captured; every frame until release the object is put back at that offset from wherever the hand is. The holder
 * owns the object, so these writes are its own and replicate to everyone with no extra latency for the holder.
 */
import { usageError } from '../errors.ts';
import { type Protocol, type RegisteredComponent, registeredComponentOf } from '../register.ts';
import { WriteVerdict, type WriteGate, type WriteVerdictId } from '../replication/write-gate.ts';
import type { NumericArray } from '../replication/compiled-field.ts';
import { quatMultiply } from '../vr/pose-math.ts';

/** Where a pose lives: a component store and the names of its position (and optional rotation xyzw) arrays. */
export interface PoseAccess {
  /** The component store holding the pose arrays. */
  component: object;
  /** Names of the x, y and z position arrays in `component`. */
  position: readonly [string, string, string];
  /** Names of the x, y, z and w rotation (quaternion) arrays, when the pose has a rotation. */
  rotation?: readonly [string, string, string, string];
}

/** The arrays of a `PoseAccess`. */
export interface PoseArrays {
  p: [NumericArray, NumericArray, NumericArray];
  q: [NumericArray, NumericArray, NumericArray, NumericArray] | null;
}

/** Resolves a `PoseAccess` to its arrays; throws a Usage error when a name is missing. */
export function poseArrays(access: PoseAccess): PoseArrays {
  const store = access.component as Record<string, NumericArray | undefined>;
  const get = (key: string): NumericArray => {
    const a = store[key];
    if (!a || typeof a.length !== 'number')
      usageError(
        `the pose component has no array '${key}'`,
        'name its position and rotation arrays in the pose option',
      );
    return a;
  };
  const [x, y, z] = access.position;
  const r = access.rotation;
  return { p: [get(x), get(y), get(z)], q: r ? [get(r[0]), get(r[1]), get(r[2]), get(r[3])] : null };
}

interface Hold {
  hand: number;
  /** Object position in the hand's frame, then object rotation relative to the hand's (xyzw). */
  offset: Float64Array;
}

/** Rotates vector (x, y, z) by unit quaternion (qx, qy, qz, qw) into `out[0..2]`. */
function rotate(out: Float64Array, x: number, y: number, z: number, qx: number, qy: number, qz: number, qw: number) {
  // v' = v + 2w (q × v) + 2 q × (q × v)
  const tx = 2 * (qy * z - qz * y);
  const ty = 2 * (qz * x - qx * z);
  const tz = 2 * (qx * y - qy * x);
  out[0] = x + qw * tx + (qy * tz - qz * ty);
  out[1] = y + qw * ty + (qz * tx - qx * tz);
  out[2] = z + qw * tz + (qx * ty - qy * tx);
}

/** The objects this peer holds and the hands holding them. */
export class HeldObjects {
  private readonly holds = new Map<number, Hold>();
  /** Working vector or quaternion of the pose math, one per layer so nothing is shared between worlds. */
  private readonly tmp = new Float64Array(4);

  constructor(
    private readonly object: PoseArrays,
    private readonly hand: PoseArrays,
  ) {}

  /** Starts `eid` following `hand`, keeping the offset between them as it is now. */
  grab(eid: number, hand: number): void {
    const o = this.object;
    const h = this.hand;
    const offset = new Float64Array(7);
    const dx = o.p[0][eid] - h.p[0][hand];
    const dy = o.p[1][eid] - h.p[1][hand];
    const dz = o.p[2][eid] - h.p[2][hand];
    if (h.q) {
      // Offset in the hand's frame: conj(qh) * d, and rotation conj(qh) * qo.
      const hx = -h.q[0][hand];
      const hy = -h.q[1][hand];
      const hz = -h.q[2][hand];
      const hw = h.q[3][hand];
      rotate(this.tmp, dx, dy, dz, hx, hy, hz, hw);
      offset.set(this.tmp.subarray(0, 3));
      if (o.q) quatMultiply(hx, hy, hz, hw, o.q[0][eid], o.q[1][eid], o.q[2][eid], o.q[3][eid], offset, 3);
    } else offset.set([dx, dy, dz]);
    this.holds.set(eid, { hand, offset });
  }

  /** Stops `eid` following its hand. */
  release(eid: number): boolean {
    return this.holds.delete(eid);
  }

  /** True when `eid` follows a hand. */
  isHeld(eid: number): boolean {
    return this.holds.has(eid);
  }

  /** The hand holding `eid`, or 0. */
  handOf(eid: number): number {
    return this.holds.get(eid)?.hand ?? 0;
  }

  /** Held entities. */
  entities(): number[] {
    return [...this.holds.keys()];
  }

  /** Puts every held object at its offset from its hand. */
  follow(): void {
    const o = this.object;
    const h = this.hand;
    for (const [eid, { hand, offset }] of this.holds) {
      if (h.q) {
        const qx = h.q[0][hand];
        const qy = h.q[1][hand];
        const qz = h.q[2][hand];
        const qw = h.q[3][hand];
        rotate(this.tmp, offset[0], offset[1], offset[2], qx, qy, qz, qw);
        o.p[0][eid] = h.p[0][hand] + this.tmp[0];
        o.p[1][eid] = h.p[1][hand] + this.tmp[1];
        o.p[2][eid] = h.p[2][hand] + this.tmp[2];
        if (o.q) {
          quatMultiply(qx, qy, qz, qw, offset[3], offset[4], offset[5], offset[6], this.tmp, 0);
          for (let i = 0; i < 4; i++) o.q[i][eid] = this.tmp[i];
        }
      } else {
        for (let i = 0; i < 3; i++) o.p[i][eid] = h.p[i][hand] + offset[i];
      }
    }
  }

  /** The pose of `eid` as [x, y, z, qx, qy, qz, qw] (identity rotation when it has none). */
  poseOf(eid: number): number[] {
    const o = this.object;
    const q = o.q;
    return [
      o.p[0][eid],
      o.p[1][eid],
      o.p[2][eid],
      q ? q[0][eid] : 0,
      q ? q[1][eid] : 0,
      q ? q[2][eid] : 0,
      q ? q[3][eid] : 1,
    ];
  }
}

/**
 * Server side: puts a released object where its holder let go, position clamped to its fields' ranges, through the
 * write gate (path 'release': the component's rules may clamp or refuse it; refused, the object stays put).
 */
export class ReleasePose {
  private readonly ranges: Array<[number, number]>;
  private readonly component: RegisteredComponent;
  private readonly access: PoseAccess;
  private readonly mask: number;

  constructor(protocol: Protocol, access: PoseAccess) {
    poseArrays(access);
    const reg = registeredComponentOf(protocol, access.component);
    if (!reg) usageError('the pose component is not registered', 'register it in the shared protocol first');
    this.component = reg;
    this.access = access;
    this.ranges = access.position.map((key): [number, number] => {
      const f = reg.fields.find((x) => x.name === key);
      return f && f.spec.kind === 'quantized' ? [f.min, f.max] : [-Infinity, Infinity];
    });
    const keys: readonly string[] = [...access.position, ...(access.rotation ?? [])];
    let mask = 0;
    reg.fields.forEach((f, i) => {
      if (keys.includes(f.name) || (f.spec.kind === 'quat' && f.spec.keys.some((k) => keys.includes(k))))
        mask |= 1 << i;
    });
    this.mask = mask;
  }

  /**
   * Writes `pose` ([x, y, z, qx, qy, qz, qw], finite) to `eid` for client `writer` through `gate`; a zero rotation
   * is ignored, others normalized. Returns the gate's verdict.
   */
  apply(gate: WriteGate, writer: number, eid: number, pose: readonly number[], nowMs: number): WriteVerdictId {
    const w = gate.stage('release', writer, eid, this.component.id, nowMs);
    w.mask = this.mask;
    const { position, rotation } = this.access;
    for (let i = 0; i < 3; i++)
      w.proposed[w.slot[position[i]]] = Math.min(this.ranges[i][1], Math.max(this.ranges[i][0], pose[i]));
    const n = Math.hypot(pose[3], pose[4], pose[5], pose[6]);
    if (rotation && n > 1e-6) for (let i = 0; i < 4; i++) w.proposed[w.slot[rotation[i]]] = pose[3 + i] / n;
    const verdict = gate.run(w);
    if (verdict !== WriteVerdict.refused) gate.commit(w, nowMs);
    return verdict;
  }
}
