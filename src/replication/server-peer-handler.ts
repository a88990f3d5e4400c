/**
 * The session's events routed into replication: a client joining gets its replication state and a snapshot, one
 * leaving gives its entities back to the server, a resumed one waits for its catch-up; acks and losses reach the
 * delivery state; each incoming message goes to the part that handles its tag, or else to the extensions.
 */
import type { RegisteredComponent } from '../register.ts';
import type { Clock } from '../clock.ts';
import { Tag } from '../protocol/tags.ts';
import type { PeerHandler, ServerPeer } from '../session/server-peer.ts';
import type { CatchUpServer } from './catch-up-server.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { SERVER_OWNER } from './entity-registry.ts';
import type { ServerExtension } from './extension.ts';
import type { InterestIndex } from './interest.ts';
import type { OwnerWriteFilter } from './owner-write-filter.ts';
import type { OwnerWrites } from './owner-writes.ts';
import { PeerReplication } from './peer-replication.ts';
import type { ScopeRequests } from './scope-requests.ts';
import type { ServerHashCheck } from './server-hash-check.ts';
import { INITIAL_ENTITY_CAPACITY } from './shadow-store.ts';
import { serverBaselinesFor } from './baseline-block.ts';

/** The replication parts a session event reaches. */
export interface ServerPeerHandlerHost {
  readonly componentCount: number;
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly interest: InterestIndex;
  readonly peers: Map<number, PeerReplication>;
  readonly extensions: readonly ServerExtension[];
  readonly clock: Clock;
  /** State hash period; 0 disables it. */
  readonly hashIntervalMs: number;
  readonly catchUp: CatchUpServer;
  readonly ownerFilter: OwnerWriteFilter;
  readonly ownerWrites: OwnerWrites;
  readonly hashCheck: ServerHashCheck;
  readonly scopeRequests: ScopeRequests;
  sendSnapshot(p: PeerReplication): void;
  setOwner(eid: number, clientId: number): void;
  /** Every message above the session passes here first (the replicator's one entry point), then to `route`. */
  received(peer: ServerPeer, tag: number, msg: Uint8Array, packetSeq: number): void;
}

/** The server session's handler: peers' lifecycle, their acks and losses, and their messages. */
export class ServerPeerHandler implements PeerHandler {
  private readonly h: ServerPeerHandlerHost;

  constructor(host: ServerPeerHandlerHost) {
    this.h = host;
  }

  /** A new client: its replication state, a snapshot of its interest, then the extensions' joined hooks. */
  joined(peer: ServerPeer): void {
    const h = this.h;
    const cap = Math.max(h.registry.capacity, INITIAL_ENTITY_CAPACITY);
    const p = new PeerReplication(peer, h.componentCount, cap);
    const coder = serverBaselinesFor(peer.capabilities, h.comps);
    // No baselines until the client holds its Welcome: it drops the Deltas of packets that come before it.
    const conn = peer.connection;
    const welcome = conn.lastReliableIdSent;
    coder?.armWhen(() => conn.isReliableAcked(welcome));
    p.useBaselines(coder);
    p.nextHashAtMs = h.clock.now() + h.hashIntervalMs;
    h.peers.set(peer.clientId, p);
    h.sendSnapshot(p);
    for (const x of h.extensions) x.joined?.(peer);
  }

  /** A client is gone: its state is dropped and the entities it owned go back to the server. */
  left(peer: ServerPeer, reason: string): void {
    const h = this.h;
    const left = h.peers.get(peer.clientId);
    if (left) h.interest.releaseClient(left.interest);
    if (left) h.catchUp.forget(left);
    h.peers.delete(peer.clientId);
    h.ownerFilter.forget(peer.clientId);
    // Entities the client owned go back to the server (from the ownership index: no walk of the world).
    const owned = h.interest.owned.get(peer.clientId);
    if (owned) for (const eid of [...owned]) h.setOwner(eid, SERVER_OWNER);
    for (const x of h.extensions) x.left?.(peer, reason);
  }

  /** A client's link is lost, its session kept: nothing is sent to it until it resumes. */
  suspended(peer: ServerPeer): void {
    const p = this.h.peers.get(peer.clientId);
    if (p) p.suspended = true;
  }

  /** A suspended client is back on a new connection: it waits for its catch-up (catch-up-server.ts). */
  resumed(peer: ServerPeer): void {
    const p = this.h.peers.get(peer.clientId);
    if (!p) {
      this.joined(peer);
      return;
    }
    p.suspended = false;
    p.nextOwnerEpoch = 0;
    p.baselines?.armWhen(null);
    // Catch-up: the client asks with Resync {lastSeq}; until then (or a timeout) nothing is sent to it.
    this.h.catchUp.resumed(p, this.h.clock.now());
  }

  /** Packet `seq` to `peer` was acked. */
  acked(peer: ServerPeer, seq: number): void {
    this.h.peers.get(peer.clientId)?.delivery.acked(seq);
    for (const x of this.h.extensions) x.acked?.(peer, seq);
  }

  /** Packet `seq` to `peer` was declared lost. */
  lost(peer: ServerPeer, seq: number): void {
    const p = this.h.peers.get(peer.clientId);
    p?.delivery.lost(seq, p.known);
    for (const x of this.h.extensions) x.lost?.(peer, seq);
  }

  /** A message from a client, handed to the host's entry point. */
  message(peer: ServerPeer, tag: number, msg: Uint8Array, packetSeq: number): void {
    this.h.received(peer, tag, msg, packetSeq);
  }

  /** One message from a client, to the part that handles its tag; the rest goes to the extensions. */
  route(peer: ServerPeer, tag: number, msg: Uint8Array, packetSeq: number): void {
    const h = this.h;
    switch (tag) {
      case Tag.Delta:
        h.ownerWrites.onDelta(peer, msg);
        return;
      case Tag.ResyncRequest:
        h.hashCheck.onResyncRequest(peer, msg);
        return;
      case Tag.Resync:
        h.catchUp.onResync(peer, h.peers.get(peer.clientId), msg);
        return;
      case Tag.OwnerHash:
        h.ownerWrites.onOwnerHash(peer, msg);
        return;
      case Tag.Subscribe:
      case Tag.Unsubscribe:
        h.scopeRequests.onSubscribe(peer, tag, msg);
        return;
    }
    for (const x of h.extensions) if (x.message?.(peer, tag, msg, packetSeq)) return;
    peer.counters.unknownTags++;
  }
}
