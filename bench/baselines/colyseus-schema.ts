import { Decoder, Encoder, schema, t } from '@colyseus/schema';
import type { SchemaType } from '@colyseus/schema';
import type { TickMethod } from '../tick-method.ts';
import { POSE_FIELDS, createPoseArrays, maxPoseError } from '../workload.ts';
import type { PoseComponent } from '../workload.ts';

/** A pose as a colyseus schema: seven float32 fields, mirroring the workload's Pose. */
const PoseState = schema(
  {
    px: t.float32(),
    py: t.float32(),
    pz: t.float32(),
    qx: t.float32(),
    qy: t.float32(),
    qz: t.float32(),
    qw: t.float32(),
  },
  'BenchPose',
);
type PoseState = SchemaType<typeof PoseState>;

/** The room state: poses in a MapSchema keyed by entity id, the usual Colyseus shape (`players: t.map(Player)`). */
const RoomState = schema({ poses: t.map(PoseState) }, 'BenchPoseRoom');
type RoomState = SchemaType<typeof RoomState>;

/**
 * Encoder buffer bytes per pose: a full-state pose costs ~41 B (7 x (1 op + 4 float32) + ref and key), so 64 B fits the
 * initial full state without colyseus's overflow warning and re-encode, and every later patch without growth.
 */
const ENCODER_BYTES_PER_POSE = 64;
/** colyseus's own default (16 KB), the floor of the size we ask for. */
const MIN_ENCODER_BUFFER_BYTES = 16 * 1024;

function copyPoseInto(target: PoseState, Pose: PoseComponent, eid: number): void {
  target.px = Pose.px[eid];
  target.py = Pose.py[eid];
  target.pz = Pose.pz[eid];
  target.qx = Pose.qx[eid];
  target.qy = Pose.qy[eid];
  target.qz = Pose.qz[eid];
  target.qw = Pose.qw[eid];
}

/**
 * @colyseus/schema v5, the mainstream TypeScript state encoder. Its change tracking lives in the field setters, so each
 * tick writes the 7 fields of the changed entities only (the workload's list: colyseus gets the dirty list for free),
 * then `encoder.encode()` and `encoder.discardChanges()`, as a Colyseus room does per patch. Reliable channel, one
 * shared patch (no StateView).
 */
export const colyseusSchemaMethod: TickMethod = {
  name: 'colyseus-schema',
  description:
    '@colyseus/schema v5: set the changed poses on MapSchema<Pose> (float32 fields), encode(), discardChanges()',
  tolerance: 0,
  create(workload) {
    const { Pose, eids } = workload;
    const instances: PoseState[] = [];
    let encoder: Encoder<RoomState> | undefined;
    let initial: Uint8Array = new Uint8Array(0);
    let last: Uint8Array = new Uint8Array(0);
    let decoder: Decoder<RoomState> | undefined;
    return {
      setup() {
        // A static setting: it only ever grows here, so other encoders in this process keep enough room.
        Encoder.BUFFER_SIZE = Math.max(
          Encoder.BUFFER_SIZE,
          MIN_ENCODER_BUFFER_BYTES,
          eids.length * ENCODER_BYTES_PER_POSE,
        );
        const state = new RoomState();
        for (const eid of eids) {
          const pose = new PoseState();
          copyPoseInto(pose, Pose, eid);
          instances[eid] = pose;
          state.poses.set(String(eid), pose);
        }
        encoder = new Encoder(state);
        initial = encoder.encodeAll().slice(); // the shared buffer is reused by later encodes
        encoder.discardChanges();
      },
      tick() {
        const changed = workload.changed;
        for (let i = 0; i < changed.length; i++) {
          const eid = changed[i];
          copyPoseInto(instances[eid], Pose, eid);
        }
        last = encoder!.encode();
        encoder!.discardChanges();
        return { bytes: last.byteLength };
      },
      check() {
        if (decoder === undefined) {
          decoder = new Decoder(new RoomState());
          decoder.decode(initial);
        }
        decoder.decode(last);
        const received = createPoseArrays(Pose.px.length);
        decoder.state.poses.forEach((pose, key) => {
          const eid = Number(key);
          for (const f of POSE_FIELDS) received[f][eid] = pose[f];
        });
        return maxPoseError(Pose, received, eids);
      },
    };
  },
};
