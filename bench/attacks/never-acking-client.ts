/** A client that joins, then never acks again while keeping its link alive: the server's queue for it grows. */
import type { AttackScenario } from './attack-scenario.ts';
import { RawClient, silentPacket } from './attack-packets.ts';

/** The never-acking client. */
export const neverAckingClient: AttackScenario = {
  name: 'never-acking-client',
  description:
    'joins, then sends only header packets without acks (one per frame) so it is never suspended while every ' +
    'reliable message to it stays queued',
  start(room) {
    const raw = new RawClient(room.network.connect(), room.clock, room.schemaHash);
    let seq = 1000;
    return {
      tick() {
        if (raw.welcomed) {
          raw.acks = false;
          if (raw.link.isOpen) raw.link.send(silentPacket(seq++ & 0xffff));
        }
        raw.step();
      },
      outcome: () => raw.state(),
    };
  },
};
