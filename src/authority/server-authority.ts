/**
 * The server's authority layer: one `ServerExtension` that enforces the permission table on every message a
 * client sends, arbitrates ownership, sequences the command log, carries out session control, and hands actions,
 * notifications and signalling to `ServerAppMessages`. Created by `createServerAuthority(world, options)`.
 */
import { Grabbable } from '../../components/grabbable.ts';
import { encodeControl } from '../codec/message-frame.ts';
import { encodeBody, readBody } from '../codec/msgpack-body.ts';
import type { ServerContext } from '../context.ts';
import { type ErrorCodeName, NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerExtension } from '../replication/extension.ts';
import { WriteVerdict } from '../replication/write-gate.ts';
import { writeThroughGate } from '../replication/gated-write.ts';
import { toHex } from '../session/identity.ts';
import type { ServerPeer } from '../session/server-session.ts';
import type { CorrelationId } from './app-wire.ts';
import type { ServerAuthorityEvents } from './authority-events.ts';
import { parseOwnershipRelease, parseOwnershipRequest } from './authority-wire.ts';
import { CommandFeed } from './command-feed.ts';
import { CommandLog, type CommandTypes } from './command-log.ts';
import type { CommandLimits } from './command-quota.ts';
import { CommandSequencer } from './command-sequencer.ts';
import { parseCommandEntry } from './command-wire.ts';
import { type PoseAccess, ReleasePose } from './hold.ts';
import { isPlausibleCounter, LamportClock } from './lamport.ts';
import type { NotifyTarget } from './notifications.ts';
import { OwnershipArbiter, type OwnershipPolicy } from './ownership-arbiter.ts';
import { PermissionGate } from './permission-gate.ts';
import { createPermissionTable, type PermissionTable, type Role, type Sender } from './roles.ts';
import { type AppMessageOptions, ServerAppMessages } from './server-app-messages.ts';
import { SessionControl } from './session-control.ts';

/** True when the client offered deflate and the server grants it (its Welcome capabilities). */
function deflates(peer: ServerPeer): boolean {
  return peer.capabilities.includes('deflate');
}

/** Options of `createServerAuthority`. */
export interface ServerAuthorityOptions extends AppMessageOptions {
  /** What happens to a request for an entity another client holds (default 'refuse'). */
  ownershipPolicy?: OwnershipPolicy;
  /**
   * May client `clientId` own entity `eid` at all? Asked before the policy; a no is refused. Default: the entity
   * has the `Grabbable` tag, so avatars and other server-owned entities cannot be taken.
   */
  grabbable?: (eid: number, clientId: number) => boolean;
  /** Tag → allowed senders, replacing the defaults for those tags (see DEFAULT_PERMISSIONS). */
  permissions?: Readonly<Record<number, readonly Sender[]>>;
  /** Senders of tags the table does not list (default participants and admins). */
  unlistedSenders?: readonly Sender[];
  /** Command types of the command log (declare the same on every client). */
  commandTypes?: CommandTypes;
  /** Bounds of the command state: targets in all, per client, and bytes (see CommandLimits for the defaults). */
  commandLimits?: CommandLimits;
  /** Pose of grabbable objects: a release message's pose is applied (clamped to the fields' ranges) before handover. */
  pose?: PoseAccess;
  /** The first admin to join becomes the privileged host (default true). */
  autoHost?: boolean;
}

/** Counters of the server authority layer. */
export interface ServerAuthorityStats {
  /** Messages refused because the sender's role or the entity's owner did not allow them. */
  forbidden: number;
  /** Authority messages that did not decode. */
  decodeErrors: number;
  /** Counters of ownership requests and releases. */
  ownership: OwnershipArbiter['counters'];
  /** Counters of the command sequencer (accepted and refused entries). */
  commands: CommandSequencer['counters'];
  /** Command snapshots sent on joins and resumes: rows, chunks, raw and sent bytes. */
  commandSnapshots: CommandFeed['figures'];
  /** Counters of actions: received, answered ok, answered with an error. */
  actions: ServerAppMessages['actions']['counters'];
  /** Counters of role changes, kicks, bans and host migrations. */
  control: SessionControl['counters'];
  /** Counters of the WebRTC signal relay: relayed and refused. */
  signals: ServerAppMessages['relay']['counters'];
  /** Notifications delivered, one per recipient. */
  notifications: number;
}

/** The server side of authority, roles, commands and application messages. */
export class ServerAuthority {
  /** Events of the server authority layer (ownership, commands, roles, forbidden messages, ...). */
  readonly events = new Emitter<ServerAuthorityEvents>();
  /** The permission table: which roles may send which messages. */
  readonly permissions: PermissionTable;
  /** The server's Lamport clock, which orders ownership requests and commands. */
  readonly lamport = new LamportClock();
  /** The command state in log order (every client holds the same). */
  readonly commands: CommandLog;
  /** Role changes, kicks, bans and the host. */
  readonly control: SessionControl;
  private readonly arbiter: OwnershipArbiter;
  private readonly sequencer: CommandSequencer;
  private readonly feed: CommandFeed;
  private readonly app: ServerAppMessages;
  private readonly extension: ServerExtension;
  private readonly owners = new Map<number, number>();
  private readonly gate: PermissionGate;
  private readonly releasePose: ReleasePose | null;
  private readonly listeners: Array<() => void> = [];
  private forbidden = 0;
  private decodeErrors = 0;

  /** @internal Built by `createServerAuthority`; the context is the plugin's own. */
  constructor(
    private readonly ctx: ServerContext,
    private readonly options: ServerAuthorityOptions,
  ) {
    const { session, replicator } = ctx;
    this.permissions = createPermissionTable(options.permissions, options.unlistedSenders);
    this.commands = new CommandLog(options.commandTypes ?? {});
    this.control = new SessionControl(
      {
        connected: () => session.peers.values(),
        peer: (id) => session.peer(id),
        broadcast: (tag, body) => this.broadcast(tag, body),
        send: (peer, tag, body) => this.send(peer, tag, body),
        disconnect: (peer, code, message) => session.disconnect(peer, code, message),
        ban: (peer) => {
          if (peer.userId !== undefined) session.bannedIds.add(peer.userId);
          const key = peer.hello?.clientPublicKey;
          if (key) session.bannedIds.add(toHex(key));
        },
        roleApplied: (peer) => this.roleApplied(peer),
        malformed: (peer, what) => this.decodeError(peer, `malformed ${what}`),
        refused: (peer, message) => {
          this.forbidden++;
          this.report('Forbidden', message);
          session.sendError(peer, 'Forbidden', message, false);
        },
      },
      this.events,
      options.autoHost ?? true,
    );
    this.arbiter = new OwnershipArbiter(
      {
        entityOf: (netId) => replicator.registry.toLocal(netId),
        ownerOf: (eid) => replicator.ownerOf(eid),
        roleOf: (id) => session.peer(id)?.role,
        isGrabbable: options.grabbable ?? ((eid) => ctx.hasTag(eid, Grabbable)),
        setOwner: (eid, id) => replicator.setOwner(eid, id),
        denied: (id, netId, reason) => this.sendToId(id, Tag.OwnershipRevoke, { netId, reason }),
      },
      options.ownershipPolicy ?? 'refuse',
    );
    this.sequencer = new CommandSequencer(
      this.commands,
      session.sessionId,
      this.lamport,
      {
        keyOf: (id) => session.peer(id)?.hello?.clientPublicKey,
        roleOf: (id) => {
          const p = session.peer(id);
          return p ? { role: p.role, isHost: id === this.control.hostId } : undefined;
        },
        rejected: (id, seq, reason) => {
          this.sendToId(id, Tag.CommandReject, { s: seq, reason });
          if (reason === 'limit')
            this.report('LimitExceeded', `client ${id}: command ${seq} refused, the command state is at its bound`);
          else if (reason !== 'conflict')
            this.report(reason === 'malformed' ? 'DecodeError' : 'Forbidden', `client ${id}: command ${seq} ${reason}`);
        },
      },
      options.commandLimits,
    );
    this.feed = new CommandFeed(this.commands, this.sequencer);
    this.app = new ServerAppMessages(session, options, {
      send: (peer, tag, body) => this.send(peer, tag, body),
      malformed: (peer, what) => this.decodeError(peer, `malformed ${what}`),
      report: (code, message) => this.report(code, message),
      write: (id, eid, component, values) => {
        const out = writeThroughGate(replicator, ctx.clock.now(), id, eid, component, values, 'action');
        if (out.verdict === 'refused') {
          const peer = session.peer(id);
          if (peer) peer.counters.rejectedWrites++;
          this.report('InvalidWrite', `client ${id}: action write to entity ${eid} refused (${out.reason})`);
        }
        return out;
      },
    });
    this.releasePose = options.pose ? new ReleasePose(replicator.protocol, options.pose) : null;
    this.extension = {
      joined: (peer) => this.joined(peer),
      left: (peer) => this.left(peer),
      message: (peer, tag, msg) => this.message(peer, tag, msg),
      beforeDetect: () => this.tick(),
      send: (peer, conn) => this.feed.send(peer.clientId, conn, deflates(peer)),
    };
    replicator.extensions.push(this.extension);
    this.listeners.push(
      replicator.events.on('ownership', (eid, owner) => this.ownershipChanged(eid, owner)),
      replicator.events.on('despawn', (eid, _netId, outOfInterest) => {
        if (outOfInterest) return;
        this.arbiter.entityRemoved(eid);
        this.owners.delete(eid);
      }),
    );
    this.gate = new PermissionGate(this.permissions, {
      session,
      now: () => ctx.clock.now(),
      isHost: (id) => id === this.control.hostId,
      refused: (peer, tag, message) => {
        this.forbidden++;
        if (tag === Tag.CommandEntry) this.sequencer.counters.forbidden++;
        this.events.emit('forbidden', peer.clientId, tag);
        this.report('Forbidden', message);
      },
    });
    session.messageGate = (peer, tag, msg) => this.gate.permit(peer, tag, msg);
    // Clients already in the session when the layer is attached.
    for (const peer of session.peers.values()) this.joined(peer);
  }

  // ── public API ───────────────────────────────────────────────────────────────────────────────────────

  /** Role of a client, or undefined when it is not in the session. */
  roleOf(clientId: number): string | undefined {
    return this.ctx.session.peer(clientId)?.role;
  }

  /** Gives `role` to a client at once (interest re-evaluated, ownership released for viewers). */
  setRole(clientId: number, role: Role): boolean {
    return this.control.setRole(clientId, role, null) === 'ok';
  }

  /** Removes a client from the session. */
  kick(clientId: number, reason = ''): boolean {
    return this.control.remove(clientId, reason, false, null) === 'ok';
  }

  /** Removes a client and refuses its identity (user id, public key) with `Banned` from now on. */
  ban(clientId: number, reason = ''): boolean {
    return this.control.remove(clientId, reason, true, null) === 'ok';
  }

  /** Lifts a ban on a user id or a public key (hex). */
  unban(identity: string): boolean {
    return this.ctx.session.bannedIds.delete(identity);
  }

  /** Makes a connected admin the privileged host. */
  setHost(clientId: number): boolean {
    return this.control.setHost(clientId, null) === 'ok';
  }

  /** Gives `eid` to `clientId` (0 = the server), bypassing the policy. */
  grant(eid: number, clientId: number): void {
    this.ctx.replicator.setOwner(eid, clientId);
  }

  /** Number of ownership changes of `eid` so far. */
  authoritySeqOf(eid: number): number {
    return this.ctx.replicator.authoritySeq.get(this.ctx.replicator.registry.toNet(eid)) ?? 0;
  }

  /** Clients waiting for `eid`, in order. */
  queueOf(eid: number): readonly number[] {
    return this.arbiter.queues.get(eid) ?? [];
  }

  /** Adds a command authored by the server (signed with its key); applied and broadcast at the next send tick. */
  command(type: string, target: string, payload: unknown): void {
    if (!this.commands.typeOf(type)) usageError(`command type '${type}' is not declared`, 'add it to commandTypes');
    this.sequencer.author(type, target, encodeBody(payload), this.ctx.session.keyPair.secretKey);
  }

  /** Sends a notification to every subscriber of `domain` (or only `to`); returns how many clients it reached. */
  notify(domain: string, event: unknown, options: { correlationId?: CorrelationId; to?: NotifyTarget } = {}): number {
    return this.app.notify(domain, event, options);
  }

  /** Notification domains a client subscribed to. */
  domainsOf(clientId: number): string[] {
    return this.app.hub.domainsOf(clientId);
  }

  /** Counters of this layer. */
  stats(): ServerAuthorityStats {
    return {
      forbidden: this.forbidden,
      decodeErrors: this.decodeErrors,
      ownership: { ...this.arbiter.counters },
      commands: { ...this.sequencer.counters },
      commandSnapshots: { ...this.feed.figures },
      actions: { ...this.app.actions.counters },
      control: { ...this.control.counters },
      signals: { ...this.app.relay.counters },
      notifications: this.app.notifications,
    };
  }

  /** Detaches the layer from the world's plugin. */
  dispose(): void {
    const x = this.ctx.replicator.extensions;
    const i = x.indexOf(this.extension);
    if (i >= 0) x.splice(i, 1);
    this.ctx.session.messageGate = null;
    for (const u of this.listeners) u();
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────────────

  private joined(peer: ServerPeer): void {
    // Called again when a suspended client resumes: its old connection's messages are gone, so it gets the
    // command state and the host afresh; subscriptions, role, queue places and ownership were kept.
    this.control.joined(peer);
    this.feed.snapshot(peer.clientId, peer.connection, deflates(peer));
  }

  private left(peer: ServerPeer): void {
    const id = peer.clientId;
    this.arbiter.forget(id);
    this.app.forget(id);
    this.feed.forget(id);
    this.gate.forget(id);
    this.control.left(peer);
  }

  private roleApplied(peer: ServerPeer): void {
    const replicator = this.ctx.replicator;
    if (!this.permissions.allows(Tag.OwnershipRequest, peer.role, peer.clientId === this.control.hostId)) {
      // A role that may not own gives back what it holds and leaves every queue.
      const reg = replicator.registry;
      for (let i = reg.count - 1; i >= 0; i--) {
        const eid = reg.list[i];
        if (reg.owner[eid] === peer.clientId) this.arbiter.release(peer.clientId, eid);
      }
      this.arbiter.forget(peer.clientId);
    }
    const p = replicator.peers.get(peer.clientId);
    if (p) p.interest.dirty = true;
    this.ctx.session.presenceChanged(peer);
  }

  private ownershipChanged(eid: number, owner: number): void {
    const previous = this.owners.get(eid) ?? 0;
    if (owner === 0) this.owners.delete(eid);
    else this.owners.set(eid, owner);
    this.events.emit('ownerChanged', eid, owner, previous, this.authoritySeqOf(eid));
    if (owner === 0) this.events.emit('gained', eid);
    else if (previous === 0) this.events.emit('lost', eid);
  }

  /** Once per send tick, before change detection: the tick's ownership requests and command entries. */
  private tick(): void {
    this.arbiter.decide();
    const appended = this.sequencer.flush();
    if (appended > 0) {
      const first = this.commands.index - appended + 1;
      const entries = this.sequencer.entriesFrom(first) ?? [];
      for (let i = 0; i < entries.length; i++) this.events.emit('command', entries[i], first + i, true);
    }
    this.feed.trim(this.ctx.session.peers.keys());
  }

  // ── messages ─────────────────────────────────────────────────────────────────────────────────────────

  private message(peer: ServerPeer, tag: number, msg: Uint8Array): boolean {
    switch (tag) {
      case Tag.OwnershipRequest: {
        const body = this.body(peer, msg, parseOwnershipRequest, 'OwnershipRequest');
        if (!body) return true;
        if (!isPlausibleCounter(body.counter, this.lamport.counter)) {
          this.decodeError(peer, 'OwnershipRequest with an implausible Lamport counter');
          return true;
        }
        this.lamport.observe(body.counter);
        this.arbiter.request(peer.clientId, body.netId, body.counter);
        return true;
      }
      case Tag.OwnershipRelease: {
        const body = this.body(peer, msg, parseOwnershipRelease, 'OwnershipRelease');
        const eid = body ? this.ctx.replicator.registry.toLocal(body.netId) : 0;
        if (!body || eid === 0) return true;
        if (body.pose && this.releasePose && this.ctx.replicator.ownerOf(eid) === peer.clientId) {
          const gate = this.ctx.replicator.writeGate;
          const now = this.ctx.clock.now();
          if (this.releasePose.apply(gate, peer.clientId, eid, body.pose, now) === WriteVerdict.refused) {
            peer.counters.rejectedWrites++;
            this.report(
              'InvalidWrite',
              `client ${peer.clientId}: release pose of entity ${eid} refused (${gate.reason})`,
            );
          }
        }
        this.arbiter.release(peer.clientId, eid);
        return true;
      }
      case Tag.CommandEntry: {
        const entry = readBody(msg, (v) => parseCommandEntry(v, peer.clientId));
        if (entry) this.sequencer.receive(entry);
        else {
          this.decodeError(peer, 'malformed CommandEntry');
          this.sequencer.malformed(peer.clientId);
        }
        return true;
      }
      default:
        return this.control.message(peer, tag, msg) || this.app.message(peer, tag, msg);
    }
  }

  private body<T>(peer: ServerPeer, msg: Uint8Array, parse: (v: unknown) => T | null, name: string): T | null {
    const body = readBody(msg, parse);
    if (body === null) this.decodeError(peer, `malformed ${name}`);
    return body;
  }

  private decodeError(peer: ServerPeer, what: string): void {
    this.decodeErrors++;
    peer.counters.decodeErrors++;
    this.report('DecodeError', `client ${peer.clientId}: ${what}`);
  }

  private report(code: ErrorCodeName, message: string): void {
    this.ctx.onError?.(new NetError(code, message));
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────────────────────

  private send(peer: ServerPeer, tag: number, body: unknown): void {
    if (peer.state === 'connected' && peer.connection.isOpen) peer.connection.sendReliable(encodeControl(tag, body));
  }

  private sendToId(clientId: number, tag: number, body: unknown): void {
    const peer = this.ctx.session.peers.get(clientId);
    if (peer) this.send(peer, tag, body);
  }

  private broadcast(tag: number, body: unknown): void {
    const msg = encodeControl(tag, body);
    for (const p of this.ctx.session.peers.values()) if (p.connection.isOpen) p.connection.sendReliable(msg);
  }
}
