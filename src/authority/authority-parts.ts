/**
 * Builds the parts of the server authority layer — session control, the ownership arbiter, the command sequencer
 * application messages and the permission gate — each wired to the world's session and replicator and to a small host for sending
 * and reporting. `ServerAuthority` owns the parts; this file only connects them.
 */
import { Grabbable } from '../../components/grabbable.ts';
import type { ServerContext } from '../context.ts';
import type { ErrorCodeName } from '../errors.ts';
import type { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import { writeThroughGate } from '../replication/gated-write.ts';
import { toHex } from '../session/identity.ts';
import type { ServerPeer } from '../session/server-session.ts';
import type { ServerAuthorityEvents } from './authority-events.ts';
import type { CommandLog } from './command-log.ts';
import { CommandSequencer } from './command-sequencer.ts';
import type { LamportClock } from './lamport.ts';
import { OwnershipArbiter } from './ownership-arbiter.ts';
import { PermissionGate } from './permission-gate.ts';
import type { PermissionTable } from './roles.ts';
import { ServerAppMessages } from './server-app-messages.ts';
import type { ServerAuthorityOptions } from './server-authority-options.ts';
import { SessionControl } from './session-control.ts';

/** What the parts need of the authority layer: sending, reporting and its counters. */
export interface AuthorityPartsHost {
  /** Sends a reliable control message to a connected client. */
  send(peer: ServerPeer, tag: number, body: unknown): void;
  /** Sends to a client by id, if it is in the session. */
  sendToId(clientId: number, tag: number, body: unknown): void;
  /** Sends to every open connection. */
  broadcast(tag: number, body: unknown): void;
  /** Counts and reports a message that did not decode. */
  decodeError(peer: ServerPeer, what: string): void;
  /** Reports through the plugin's `onError`. */
  report(code: ErrorCodeName, message: string): void;
  /** A client's new role took effect (ownership, interest, presence follow). */
  roleApplied(peer: ServerPeer): void;
  /** Counts a refused message in the layer's `forbidden` figure. */
  countForbidden(): void;
}

/** Role changes, kicks, bans and the host, acting on the world's session. */
export function createSessionControl(
  ctx: ServerContext,
  h: AuthorityPartsHost,
  events: Emitter<ServerAuthorityEvents>,
  autoHost: boolean,
): SessionControl {
  const { session } = ctx;
  return new SessionControl(
    {
      connected: () => session.peers.values(),
      peer: (id) => session.peer(id),
      broadcast: (tag, body) => h.broadcast(tag, body),
      send: (peer, tag, body) => h.send(peer, tag, body),
      disconnect: (peer, code, message) => session.disconnect(peer, code, message),
      ban: (peer) => {
        if (peer.userId !== undefined) session.bannedIds.add(peer.userId);
        const key = peer.hello?.clientPublicKey;
        if (key) session.bannedIds.add(toHex(key));
      },
      roleApplied: (peer) => h.roleApplied(peer),
      malformed: (peer, what) => h.decodeError(peer, `malformed ${what}`),
      refused: (peer, message) => {
        h.countForbidden();
        h.report('Forbidden', message);
        session.sendError(peer, 'Forbidden', message, false);
      },
    },
    events,
    autoHost,
  );
}

/** The ownership arbiter over the world's replicator; a denial is sent back as an `OwnershipRevoke`. */
export function createOwnershipArbiter(
  ctx: ServerContext,
  options: ServerAuthorityOptions,
  h: AuthorityPartsHost,
): OwnershipArbiter {
  const { session, replicator } = ctx;
  return new OwnershipArbiter(
    {
      entityOf: (netId) => replicator.registry.toLocal(netId),
      ownerOf: (eid) => replicator.ownerOf(eid),
      roleOf: (id) => session.peer(id)?.role,
      isGrabbable: options.grabbable ?? ((eid) => ctx.hasTag(eid, Grabbable)),
      setOwner: (eid, id) => replicator.setOwner(eid, id),
      denied: (id, netId, reason) => h.sendToId(id, Tag.OwnershipRevoke, { netId, reason }),
    },
    options.ownershipPolicy ?? 'refuse',
  );
}

/** The command sequencer: authors are the session's clients, refusals are answered and reported. */
export function createCommandSequencer(
  ctx: ServerContext,
  commands: CommandLog,
  lamport: LamportClock,
  control: SessionControl,
  options: ServerAuthorityOptions,
  h: AuthorityPartsHost,
): CommandSequencer {
  const { session } = ctx;
  return new CommandSequencer(
    commands,
    session.sessionId,
    lamport,
    {
      keyOf: (id) => session.peer(id)?.hello?.clientPublicKey,
      roleOf: (id) => {
        const p = session.peer(id);
        return p ? { role: p.role, isHost: id === control.hostId } : undefined;
      },
      rejected: (id, seq, reason) => {
        h.sendToId(id, Tag.CommandReject, { s: seq, reason });
        if (reason === 'limit')
          h.report('LimitExceeded', `client ${id}: command ${seq} refused, the command state is at its bound`);
        else if (reason !== 'conflict')
          h.report(reason === 'malformed' ? 'DecodeError' : 'Forbidden', `client ${id}: command ${seq} ${reason}`);
      },
    },
    options.commandLimits,
  );
}

/** Actions, notifications and signalling; an action's writes go through the replicator's write gate. */
export function createAppMessages(
  ctx: ServerContext,
  options: ServerAuthorityOptions,
  h: AuthorityPartsHost,
): ServerAppMessages {
  const { session, replicator } = ctx;
  return new ServerAppMessages(session, options, {
    send: (peer, tag, body) => h.send(peer, tag, body),
    malformed: (peer, what) => h.decodeError(peer, `malformed ${what}`),
    report: (code, message) => h.report(code, message),
    write: (id, eid, component, values) => {
      const out = writeThroughGate(replicator, ctx.clock.now(), id, eid, component, values, 'action');
      if (out.verdict === 'refused') {
        const peer = session.peer(id);
        if (peer) peer.counters.rejectedWrites++;
        h.report('InvalidWrite', `client ${id}: action write to entity ${eid} refused (${out.reason})`);
      }
      return out;
    },
  });
}

/** The permission gate in front of every client message; a refusal is counted, emitted and reported. */
export function createPermissionGate(
  ctx: ServerContext,
  permissions: PermissionTable,
  control: SessionControl,
  sequencer: CommandSequencer,
  events: Emitter<ServerAuthorityEvents>,
  h: AuthorityPartsHost,
): PermissionGate {
  return new PermissionGate(permissions, {
    session: ctx.session,
    now: () => ctx.clock.now(),
    isHost: (id) => id === control.hostId,
    refused: (peer, tag, message) => {
      h.countForbidden();
      if (tag === Tag.CommandEntry) sequencer.counters.forbidden++;
      events.emit('forbidden', peer.clientId, tag);
      h.report('Forbidden', message);
    },
  });
}
