/**
 * The messages the server authority layer decodes itself: ownership requests and releases (with a release pose)
 * and command entries. Control and application messages go on to `SessionControl` and `ServerAppMessages`.
 */
import { readBody } from '../codec/msgpack-body.ts';
import type { ServerContext } from '../context.ts';
import type { ErrorCodeName } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import { WriteVerdict } from '../replication/write-gate.ts';
import type { ServerPeer } from '../session/server-session.ts';
import { parseOwnershipRelease, parseOwnershipRequest } from './authority-wire.ts';
import type { CommandSequencer } from './command-sequencer.ts';
import { parseCommandEntry } from './command-wire.ts';
import type { ReleasePose } from './hold.ts';
import { isPlausibleCounter, type LamportClock } from './lamport.ts';
import type { OwnershipArbiter } from './ownership-arbiter.ts';

/** What the handler needs of the server authority layer; built once, not per message. */
export interface AuthorityMessageHost {
  readonly ctx: ServerContext;
  readonly lamport: LamportClock;
  readonly arbiter: OwnershipArbiter;
  readonly sequencer: CommandSequencer;
  readonly releasePose: ReleasePose | null;
  /** Counts and reports a message that did not decode. */
  decodeError(peer: ServerPeer, what: string): void;
  /** Reports through the plugin's `onError`. */
  report(code: ErrorCodeName, message: string): void;
}

/** Handles an ownership or command message; false for any other tag, which the caller passes on. */
export function handleAuthorityMessage(
  h: AuthorityMessageHost,
  peer: ServerPeer,
  tag: number,
  msg: Uint8Array,
): boolean {
  switch (tag) {
    case Tag.OwnershipRequest: {
      const body = readOrReport(h, peer, msg, parseOwnershipRequest, 'OwnershipRequest');
      if (!body) return true;
      if (!isPlausibleCounter(body.counter, h.lamport.counter)) {
        h.decodeError(peer, 'OwnershipRequest with an implausible Lamport counter');
        return true;
      }
      h.lamport.observe(body.counter);
      h.arbiter.request(peer.clientId, body.netId, body.counter);
      return true;
    }
    case Tag.OwnershipRelease: {
      const body = readOrReport(h, peer, msg, parseOwnershipRelease, 'OwnershipRelease');
      const eid = body ? h.ctx.replicator.registry.toLocal(body.netId) : 0;
      if (!body || eid === 0) return true;
      if (body.pose && h.releasePose && h.ctx.replicator.ownerOf(eid) === peer.clientId) {
        const gate = h.ctx.replicator.writeGate;
        const now = h.ctx.clock.now();
        if (h.releasePose.apply(gate, peer.clientId, eid, body.pose, now) === WriteVerdict.refused) {
          peer.counters.rejectedWrites++;
          h.report('InvalidWrite', `client ${peer.clientId}: release pose of entity ${eid} refused (${gate.reason})`);
        }
      }
      h.arbiter.release(peer.clientId, eid);
      return true;
    }
    case Tag.CommandEntry: {
      const entry = readBody(msg, (v) => parseCommandEntry(v, peer.clientId));
      if (entry) h.sequencer.receive(entry);
      else {
        h.decodeError(peer, 'malformed CommandEntry');
        h.sequencer.malformed(peer.clientId);
      }
      return true;
    }
    default:
      return false;
  }
}

/** Decodes a body, reporting a decode error when it does not parse. */
function readOrReport<T>(
  h: AuthorityMessageHost,
  peer: ServerPeer,
  msg: Uint8Array,
  parse: (v: unknown) => T | null,
  name: string,
): T | null {
  const body = readBody(msg, parse);
  if (body === null) h.decodeError(peer, `malformed ${name}`);
  return body;
}
