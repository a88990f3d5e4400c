/**
 * The server's authority layer: one `ServerExtension` that enforces the permission table on every message a
 * client sends, arbitrates ownership, sequences the command log, carries out session control, and hands actions,
 * notifications and signalling to `ServerAppMessages`. Created by `createServerAuthority(world, options)`.
 */
import { encodeBody } from '../codec/msgpack-body.ts';
import type { ServerContext } from '../context.ts';
import { type ErrorCodeName, NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerExtension } from '../replication/extension.ts';
import type { ServerPeer } from '../session/server-session.ts';
import type { CorrelationId } from './app-wire.ts';
import type { ServerAuthorityEvents } from './authority-events.ts';
import { type AuthorityMessageHost, handleAuthorityMessage } from './authority-message-handler.ts';
import {
  type AuthorityPartsHost,
  createAppMessages,
  createCommandSequencer,
  createOwnershipArbiter,
  createPermissionGate,
  createSessionControl,
} from './authority-parts.ts';
import { CommandFeed } from './command-feed.ts';
import { CommandLog } from './command-log.ts';
import { broadcastControl, deflates, sendControl, sendControlToId } from './control-send.ts';
import type { CommandSequencer } from './command-sequencer.ts';
import { ReleasePose } from './hold.ts';
import { LamportClock } from './lamport.ts';
import type { NotifyTarget } from './notifications.ts';
import type { OwnershipArbiter } from './ownership-arbiter.ts';
import type { PermissionGate } from './permission-gate.ts';
import { OwnerChanges } from './owner-changes.ts';
import { createPermissionTable, type PermissionTable, type Role } from './roles.ts';
import type { ServerAppMessages } from './server-app-messages.ts';
import type { ServerAuthorityOptions, ServerAuthorityStats } from './server-authority-options.ts';
import type { SessionControl } from './session-control.ts';

export type { ServerAuthorityOptions, ServerAuthorityStats } from './server-authority-options.ts';

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
  private readonly owners: OwnerChanges;
  private readonly gate: PermissionGate;
  private readonly releasePose: ReleasePose | null;
  private readonly handler: AuthorityMessageHost;
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
    const parts: AuthorityPartsHost = {
      send: sendControl,
      sendToId: (id, tag, body) => sendControlToId(ctx.session, id, tag, body),
      broadcast: (tag, body) => broadcastControl(ctx.session, tag, body),
      decodeError: (peer, what) => this.decodeError(peer, what),
      report: (code, message) => this.report(code, message),
      roleApplied: (peer) => this.roleApplied(peer),
      countForbidden: () => {
        this.forbidden++;
      },
    };
    this.control = createSessionControl(ctx, parts, this.events, options.autoHost ?? true);
    this.arbiter = createOwnershipArbiter(ctx, options, parts);
    this.sequencer = createCommandSequencer(ctx, this.commands, this.lamport, this.control, options, parts);
    this.feed = new CommandFeed(this.commands, this.sequencer);
    this.app = createAppMessages(ctx, options, parts);
    this.owners = new OwnerChanges(this.events, (eid) => this.authoritySeqOf(eid));
    this.releasePose = options.pose ? new ReleasePose(replicator.protocol, options.pose) : null;
    this.handler = {
      ctx,
      lamport: this.lamport,
      arbiter: this.arbiter,
      sequencer: this.sequencer,
      releasePose: this.releasePose,
      decodeError: (peer, what) => this.decodeError(peer, what),
      report: (code, message) => this.report(code, message),
    };
    this.extension = {
      joined: (peer) => this.joined(peer),
      left: (peer) => this.left(peer),
      message: (peer, tag, msg) => this.message(peer, tag, msg),
      beforeDetect: () => this.tick(),
      send: (peer, conn) => this.feed.send(peer.clientId, conn, deflates(peer)),
    };
    replicator.extensions.push(this.extension);
    this.listeners.push(
      replicator.events.on('ownership', (eid, owner) => this.owners.changed(eid, owner)),
      replicator.events.on('despawn', (eid, _netId, outOfInterest) => {
        if (outOfInterest) return;
        this.arbiter.entityRemoved(eid);
        this.owners.removed(eid);
      }),
    );
    this.gate = createPermissionGate(ctx, this.permissions, this.control, this.sequencer, this.events, parts);
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
    return (
      handleAuthorityMessage(this.handler, peer, tag, msg) ||
      this.control.message(peer, tag, msg) ||
      this.app.message(peer, tag, msg)
    );
  }

  private decodeError(peer: ServerPeer, what: string): void {
    this.decodeErrors++;
    peer.counters.decodeErrors++;
    this.report('DecodeError', `client ${peer.clientId}: ${what}`);
  }

  private report(code: ErrorCodeName, message: string): void {
    this.ctx.onError?.(new NetError(code, message));
  }
}
