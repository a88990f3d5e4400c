import { POSITION_TOLERANCE_M, createEcsyncPoseServer } from './ecsync-pose-server.ts';
import type { EcsyncPoseServer } from './ecsync-pose-server.ts';
import type { TickMethod } from './tick-method.ts';

/**
 * ecsync itself on the tick-cost workload. The workload's world gets the real server plugin (Pose registered as three
 * `field.quantized(-32, 32, 0.001)` positions and a 10-bit smallest-three `field.quat()`) over the in-memory network,
 * with one connected client. Timed: the server reads the client's acks (connection + delivery state), then
 * `replicator.detectChanges()` (raw scan, every moved entity against its quantized shadow, fanned out to the client's
 * delivery state), the priority pass, the bandwidth tokens, then every pending change packed by `writeDelta` into
 * Delta messages and flushed through the client's real `Connection` onto the link, one <= 1,200 B packet after
 * another. Bytes = the connection's `bytesOut` for the tick: packet headers, entry framing and Delta messages.
 * Untimed: the client receives, decodes and sends its acks. See ecsync-pose-server.ts for why it loops instead of
 * `send()`.
 */
export const ecsyncMethod: TickMethod = {
  name: 'ecsync',
  description:
    'ecsync server plugin, 1 client: ack processing + replicator.detectChanges() + priority pass + bandwidth tokens ' +
    '+ writeDelta packed into real packets until nothing is pending (bytes = link bytes incl. packet headers)',
  tolerance: POSITION_TOLERANCE_M,
  create(workload) {
    let server: EcsyncPoseServer | undefined;
    // Each method gets its own workload; derive the network seed from the workload so runs repeat exactly.
    const seed = workload.entities;
    return {
      setup() {
        server = createEcsyncPoseServer(workload, seed);
      },
      beforeTick() {
        server!.settle();
      },
      tick() {
        return { bytes: server!.packAll().linkBytes };
      },
      check() {
        return server!.maxError();
      },
    };
  },
};
