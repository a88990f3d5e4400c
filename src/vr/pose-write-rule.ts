/**
 * The VR layer's rule in the write gate: a head or controller pose written by any path other than the pose stream
 * (an owner Delta, a server write on a client's behalf) gets the same checks as a streamed one — world bounds,
 * speed limit against the server's current pose, play area, the application's pose rules — and is refused if they
 * would move it. The stream itself runs the validator on every tick and clamps (a tracking glitch is smoothed,
 * not refused); a pose written around the stream has no such excuse. The sample stamp (capture time and horizon)
 * belongs to the stream: a write changing it by another path is refused.
 */
import type { WriteCheck, WriteRule } from '../replication/write-gate.ts';
import { POSE_LENGTH } from './pose-history.ts';
import { isCorrectedPose, MAX_TICK_MS } from './server-pose-extension.ts';
import { createPoseCheck, type DeviceKindId, type PoseValidator } from './server-pose-validator.ts';

/** The store arrays of a pose, in PoseCheck order. */
const POSE_KEYS = ['px', 'py', 'pz', 'qx', 'qy', 'qz', 'qw'] as const;

/** Creates the gate rule of one device kind's pose component. */
export function createPoseWriteRule(validator: PoseValidator, device: DeviceKindId): WriteRule {
  const check = createPoseCheck();
  const proposed = new Float64Array(POSE_LENGTH);
  return (w: WriteCheck) => {
    if (w.path === 'poses') return undefined;
    const stamp = w.slot.stamp;
    if (stamp !== undefined && w.proposed[stamp] !== w.current[stamp])
      return 'a pose stamp is written by the pose stream only';
    check.clientId = w.writer;
    check.eid = w.eid;
    check.device = device;
    check.tick = 0;
    // The first write (or one after a long pause) gets one stream tick's worth of movement.
    check.dtMs = w.dtMs < MAX_TICK_MS ? w.dtMs : MAX_TICK_MS;
    check.hasPrevious = true;
    for (let k = 0; k < POSE_LENGTH; k++) {
      const slot = w.slot[POSE_KEYS[k]];
      check.previous[k] = w.current[slot];
      check.pose[k] = proposed[k] = w.proposed[slot];
    }
    validator.validate(check);
    return isCorrectedPose(check.pose, proposed) ? 'pose outside the bounds, speed limit or play area' : undefined;
  };
}
