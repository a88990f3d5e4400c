import { createSoADeserializer, createSoASerializer } from 'bitecs/serialization';
import type { TickMethod } from '../tick-method.ts';
import { POSE_FIELDS, createPoseArrays, maxPoseError } from '../workload.ts';
import type { PoseComponent } from '../workload.ts';

/** A diff record is at most eid u32 + component id u32 + change mask u8 + 7 float32 fields. */
const MAX_BYTES_PER_ENTITY = 4 + 4 + 1 + POSE_FIELDS.length * 4;
/**
 * bitecs diffs floats with its default epsilon 1e-4 and moves its shadow even for smaller changes (see FINDINGS), so a
 * receiver may lag by sub-epsilon changes that accumulate over the few checked ticks: allow 10x the epsilon.
 */
const BITECS_DRIFT_TOLERANCE = 1e-3;

/**
 * bitecs 0.4's own diff serializer: `createSoASerializer([Pose], { diff: true })` called with every posed entity each
 * tick. It compares each field with its shadow and writes eid, component id, a change mask and the changed float32s.
 * Defaults kept except the buffer, sized to one full diff instead of the default 100 MB (it copies only the used part,
 * so the timing is the same).
 */
export const bitecsSoaMethod: TickMethod = {
  name: 'bitecs-soa',
  description: 'bitecs/serialization createSoASerializer([Pose], {diff: true}) over all posed entities',
  tolerance: BITECS_DRIFT_TOLERANCE,
  create(workload) {
    const { Pose, eids } = workload;
    let serialize: (indices: readonly number[]) => ArrayBuffer = () => new ArrayBuffer(0);
    let initial = new ArrayBuffer(0);
    let last = new ArrayBuffer(0);
    let receiver: PoseComponent | undefined;
    let deserialize: (packet: ArrayBuffer) => void = () => {};
    return {
      setup() {
        const buffer = new ArrayBuffer(eids.length * MAX_BYTES_PER_ENTITY + 64);
        serialize = createSoASerializer([Pose], { diff: true, buffer });
        initial = serialize(eids); // the shadow starts at zero: this first diff is the full state
      },
      tick() {
        last = serialize(eids);
        return { bytes: last.byteLength };
      },
      check() {
        if (receiver === undefined) {
          const pose = createPoseArrays(Pose.px.length);
          receiver = pose;
          deserialize = createSoADeserializer([pose], { diff: true });
          deserialize(initial);
        }
        deserialize(last);
        return maxPoseError(Pose, receiver, eids);
      },
    };
  },
};
