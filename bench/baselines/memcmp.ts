import type { TickMethod } from '../tick-method.ts';
import { POSE_FIELDS, createPoseArrays, maxPoseError } from '../workload.ts';
import type { PoseComponent } from '../workload.ts';

/** Byte views of the seven field arrays, for native compares. */
function byteViews(Pose: PoseComponent): Uint8Array[] {
  return POSE_FIELDS.map((f) => new Uint8Array(Pose[f].buffer, Pose[f].byteOffset, Pose[f].byteLength));
}

/**
 * The floor: one native `memcmp` (`Buffer.compare`) of every Pose field array against an equal shadow copy.
 * Equal buffers force a scan of every byte (an unequal compare stops at the first difference), so this is the cost of
 * reading the whole state and a same-size shadow once: what "has anything changed?" costs at memory speed, without
 * finding which entity changed or encoding anything. The shadow is refreshed untimed before each tick.
 */
export const memcmpMethod: TickMethod = {
  name: 'memcmp',
  description:
    'Buffer.compare of all 7 Pose arrays against an equal shadow (full scan, finds nothing, encodes nothing)',
  floor: true,
  tolerance: 0,
  create(workload) {
    const shadow = createPoseArrays(workload.Pose.px.length);
    const state = byteViews(workload.Pose);
    const copy = byteViews(shadow);
    const refresh = (): void => {
      for (let f = 0; f < state.length; f++) copy[f].set(state[f]);
    };
    return {
      setup: refresh,
      beforeTick: refresh,
      tick() {
        let differs = 0;
        for (let f = 0; f < state.length; f++) differs |= Buffer.compare(state[f], copy[f]);
        if (differs !== 0) throw new Error('memcmp floor compared unequal buffers: it did not scan the whole state');
        return { bytes: 0 };
      },
      check: () => maxPoseError(workload.Pose, shadow, workload.eids),
    };
  },
};

/** Reference: copying the whole state into a shadow with `Float32Array.set` (what refreshing a full shadow costs). */
export const copyMethod: TickMethod = {
  name: 'f32-set-copy',
  description: 'Float32Array.set of all 7 Pose arrays into a shadow (full copy, encodes nothing)',
  floor: true,
  tolerance: 0,
  create(workload) {
    const shadow = createPoseArrays(workload.Pose.px.length);
    const copyAll = (): void => {
      for (const f of POSE_FIELDS) shadow[f].set(workload.Pose[f]);
    };
    return {
      setup: copyAll,
      tick() {
        copyAll();
        return { bytes: 0 };
      },
      check: () => maxPoseError(workload.Pose, shadow, workload.eids),
    };
  },
};
