import { Encoder, decode } from '@msgpack/msgpack';
import type { TickMethod } from '../tick-method.ts';
import { POSE_FIELDS, createPoseArrays, maxPoseError } from '../workload.ts';
import type { PoseComponent } from '../workload.ts';

/** One pose on the wire: [eid, px, py, pz, qx, qy, qz, qw]. */
type PoseRow = [number, number, number, number, number, number, number, number];

function rowsOf(Pose: PoseComponent, eids: ArrayLike<number>): PoseRow[] {
  const rows: PoseRow[] = new Array(eids.length);
  for (let i = 0; i < eids.length; i++) {
    const e = eids[i];
    rows[i] = [e, Pose.px[e], Pose.py[e], Pose.pz[e], Pose.qx[e], Pose.qy[e], Pose.qz[e], Pose.qw[e]];
  }
  return rows;
}

/**
 * msgpack of "the changes": the changed entities (the workload's list: no change detection) as an array of
 * [eid, px..qw] rows, floats forced to float32. One reused `Encoder`, `encodeSharedRef` (no copy of the output).
 */
export const msgpackMethod: TickMethod = {
  name: 'msgpack',
  description: '@msgpack/msgpack (forceFloat32) of [[eid, px..qw], ...] for the changed entities only',
  tolerance: 0,
  create(workload) {
    const { Pose, eids } = workload;
    const encoder = new Encoder({ forceFloat32: true });
    let initial = new Uint8Array(0);
    let last = new Uint8Array(0);
    let receiver: PoseComponent | undefined;
    const apply = (bytes: Uint8Array, into: PoseComponent): void => {
      for (const row of decode(bytes) as PoseRow[]) {
        for (let f = 0; f < POSE_FIELDS.length; f++) into[POSE_FIELDS[f]][row[0]] = row[f + 1];
      }
    };
    return {
      setup() {
        initial = encoder.encode(rowsOf(Pose, eids));
      },
      tick() {
        last = encoder.encodeSharedRef(rowsOf(Pose, workload.changed));
        return { bytes: last.byteLength };
      },
      check() {
        if (receiver === undefined) {
          receiver = createPoseArrays(Pose.px.length);
          apply(initial, receiver);
        }
        apply(last, receiver);
        return maxPoseError(Pose, receiver, eids);
      },
    };
  },
};
