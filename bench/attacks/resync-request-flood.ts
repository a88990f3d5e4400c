/** A joined client that asks for a resync of every hash bucket as fast as the message rate limit allows. */
import { Tag } from '../../src/protocol/tags.ts';
import { BitWriter, beginMessage } from '../../src/replication/wire-bodies.ts';
import type { AttackScenario } from './attack-scenario.ts';
import { RawClient } from './attack-packets.ts';

/** Requests per frame: 15 x 60 = 900 per second, under the default 1,000 messages per second. */
const REQUESTS_PER_FRAME = 15;

/** The ResyncRequest flood. */
export const resyncRequestFlood: AttackScenario = {
  name: 'resync-request-flood',
  description:
    `joins, then sends ${REQUESTS_PER_FRAME} ResyncRequests for all 64 buckets per frame ` +
    `(${REQUESTS_PER_FRAME * 60}/s, under the default message rate limit); each is 10 bytes`,
  start(room) {
    const raw = new RawClient(room.network.connect(), room.clock, room.schemaHash);
    const w = new BitWriter(16);
    beginMessage(w, Tag.ResyncRequest);
    w.writeU32(0xffffffff);
    w.writeU32(0xffffffff);
    const request = w.toBytes().slice();
    return {
      tick() {
        if (raw.welcomed && raw.connection.isOpen) {
          for (let i = 0; i < REQUESTS_PER_FRAME; i++) raw.connection.sendReliable(request);
        }
        raw.step();
      },
      outcome: () => raw.state(),
    };
  },
};
