/**
 * A client's authority layer: one `ClientExtension` that asks for and releases ownership (grabbed objects follow
 * the hand), issues signed command-log entries and applies the server's total order, runs actions with optimistic
 * rollback, keeps notification subscriptions, relays signalling, and sends admin requests. Created by
 * `createClientAuthority(world, options)`.
 */
import { readBody } from '../codec/msgpack-body.ts';
import { encodeControl } from '../codec/message-frame.ts';
import type { ClientContext } from '../context.ts';
import { type ErrorCodeName, NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientExtension } from '../replication/extension.ts';
import { type ActOptions, ActionTracker } from './actions.ts';
import {
  asDomain,
  MAX_DOMAINS_PER_MESSAGE,
  parseActionErr,
  parseActionOk,
  parseNotify,
  parseProgress,
  parseSignalIn,
  parseSignalPayload,
  type SignalPayload,
} from './app-wire.ts';
import type { ClientAuthorityEvents } from './authority-events.ts';
import { parseHostMigration, parseOwnershipRevoke, parseRemoval, parseRoleChange } from './authority-wire.ts';
import { CommandLog } from './command-log.ts';
import { CommandReplica } from './command-replica.ts';
import { CommandSnapshotAssembler } from './command-snapshot.ts';
import { parseCommandBatch, parseCommandReject } from './command-wire.ts';
import { type GrabOptions, GrabTracker } from './grab-tracker.ts';
import { HeldObjects, poseArrays } from './hold.ts';
import { LamportClock } from './lamport.ts';
import type { Role } from './roles.ts';
import type { ClientAuthorityOptions } from './client-authority-options.ts';

export type { GrabOptions } from './grab-tracker.ts';
export type { ClientAuthorityOptions } from './client-authority-options.ts';

/** The client side of authority, roles, commands and application messages. */
export class ClientAuthority {
  /** Events of the client authority layer (ownership, commands, roles, notifications, ...). */
  readonly events = new Emitter<ClientAuthorityEvents>();
  /** This client's Lamport clock, which stamps its ownership requests and commands. */
  readonly lamport = new LamportClock();
  /** The command state in the server's total order (the same on every peer). */
  readonly commands: CommandLog;
  /** The privileged host's client id (0 = none). */
  hostId = 0;
  private readonly held: HeldObjects | null;
  private readonly grabs: GrabTracker;
  private readonly replica: CommandReplica;
  private readonly actions = new ActionTracker();
  private readonly commandChunks = new CommandSnapshotAssembler();
  private readonly domains = new Set<string>();
  private readonly extension: ClientExtension;
  private readonly listeners: Array<() => void> = [];
  private myRole: string | null = null;
  private lastClientId = 0;

  /** @internal Built by `createClientAuthority`; the context is the plugin's own. */
  constructor(
    private readonly ctx: ClientContext,
    private readonly options: ClientAuthorityOptions,
  ) {
    this.commands = new CommandLog(options.commandTypes ?? {});
    this.held = options.pose
      ? new HeldObjects(poseArrays(options.pose), poseArrays(options.handPose ?? options.pose))
      : null;
    const send = (tag: number, body: unknown) => this.send(tag, body);
    this.grabs = new GrabTracker(ctx.replicator, this.held, this.lamport, this.events, send);
    this.replica = new CommandReplica(this.commands, this.lamport, ctx.session, this.events, {
      send,
      report: (code, message) => this.report(code, message),
      verify: options.verifyCommands ?? true,
    });
    this.extension = {
      message: (tag, msg) => this.message(tag, msg),
      send: () => this.tick(),
    };
    ctx.replicator.extensions.push(this.extension);
    this.listeners.push(
      ctx.replicator.events.on('ownership', (eid, owner) => this.grabs.ownershipChanged(eid, owner)),
      ctx.replicator.events.on('despawn', (eid) => this.grabs.despawned(eid)),
      ctx.session.events.on('state', (state) => {
        if (state === 'closed' || state === 'error') this.ended();
      }),
    );
  }

  // ── identity ─────────────────────────────────────────────────────────────────────────────────────────

  /** This client's id (0 before Welcome). */
  get clientId(): number {
    return this.ctx.session.clientId;
  }

  /** This client's role as the server last said. */
  get role(): string {
    return this.myRole ?? this.ctx.session.welcome?.role ?? 'viewer';
  }

  /** True when this client is the privileged host. */
  get isHost(): boolean {
    return this.hostId !== 0 && this.hostId === this.clientId;
  }

  // ── ownership ────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Asks the server for ownership of `eid` (grab). Resolves true when granted (the object then follows `hand`),
   * false when refused or when the session ends first; a queued request stays pending until its turn.
   */
  requestOwnership(eid: number, options: GrabOptions = {}): Promise<boolean> {
    return this.grabs.request(eid, options);
  }

  /** Lets go of `eid` (or stops waiting for it); its last pose goes with the release when `pose` is configured. */
  release(eid: number): void {
    this.grabs.release(eid);
  }

  /** True when this client holds `eid` in a hand. */
  isHeld(eid: number): boolean {
    return this.held?.isHeld(eid) ?? false;
  }

  /** Number of ownership changes of `eid` this client has seen announced (0 when unchanged since it arrived). */
  authoritySeqOf(eid: number): number {
    return this.ctx.replicator.authoritySeq.get(this.ctx.replicator.registry.toNet(eid)) ?? 0;
  }

  /** Moves every held object to its hand; `holdSystem` calls it each frame before `send`. */
  follow(): void {
    this.held?.follow();
  }

  // ── commands ─────────────────────────────────────────────────────────────────────────────────────────

  /** Issues a signed command-log entry; returns its sequence number. It applies when the server's order says so. */
  command(type: string, target: string, payload: unknown): number {
    return this.replica.issue(type, target, payload);
  }

  /** Entries sent and not yet applied or rejected. */
  get pendingCommands(): number {
    return this.replica.pendingCount;
  }

  /** Relayed entries refused because they were not signed by their author (reported as `ForgedCommand`). */
  get forgedCommands(): number {
    return this.replica.forged;
  }

  // ── actions, notifications, signalling ───────────────────────────────────────────────────────────────

  /** Sends an action; resolves with its result, or rejects with an `ActionFailure` after rolling back. */
  act(action: unknown, options: ActOptions = {}): Promise<unknown> {
    const { opId, result } = this.actions.start(this.ctx.clock.now(), {
      ...options,
      timeoutMs: options.timeoutMs ?? this.options.actionTimeoutMs,
    });
    this.send(Tag.Action, { opId, action });
    return result;
  }

  /** Subscribes to notification domains (kept across reconnects). */
  subscribe(...domains: string[]): void {
    for (const d of domains)
      if (asDomain(d) === undefined) usageError(`notification domain '${d}' is invalid`, 'use 1..64 characters');
    for (const d of domains) this.domains.add(d);
    this.sendDomains(Tag.NotifySubscribe, domains);
  }

  /** Unsubscribes from notification domains. */
  unsubscribe(...domains: string[]): void {
    for (const d of domains) this.domains.delete(d);
    this.sendDomains(
      Tag.NotifyUnsubscribe,
      domains.filter((d) => asDomain(d) !== undefined),
    );
  }

  /** The domains this client subscribed to. */
  get subscriptions(): string[] {
    return [...this.domains];
  }

  /** Sends a WebRTC offer, answer or ICE candidate to client `to` through the server. */
  signal(to: number, payload: SignalPayload): void {
    if (parseSignalPayload(payload) === null)
      usageError(
        'invalid signalling payload',
        "pass { type: 'offer' | 'answer', sdp } or { type: 'candidate', candidate }",
      );
    this.send(Tag.Signal, { to, signal: payload });
  }

  // ── session control (admins) ─────────────────────────────────────────────────────────────────────────

  /** Asks the server to give `role` to `clientId` (admins; refused with Forbidden otherwise). */
  setRole(clientId: number, role: Role): void {
    this.send(Tag.RoleChange, { clientId, role });
  }

  /** Asks the server to remove `clientId`. */
  kick(clientId: number, reason = ''): void {
    this.send(Tag.Kick, { clientId, reason });
  }

  /** Asks the server to remove `clientId` and refuse it from now on. */
  ban(clientId: number, reason = ''): void {
    this.send(Tag.Ban, { clientId, reason });
  }

  /** The host hands its privilege to another admin. */
  handOverHost(clientId: number): void {
    this.send(Tag.HostMigration, { clientId });
  }

  /** Detaches the layer from the world's plugin; pending requests and actions fail. */
  dispose(): void {
    const x = this.ctx.replicator.extensions;
    const i = x.indexOf(this.extension);
    if (i >= 0) x.splice(i, 1);
    for (const u of this.listeners) u();
    this.ended();
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────────────

  private send(tag: number, body: unknown): void {
    this.ctx.session.connection?.sendReliable(encodeControl(tag, body));
  }

  private sendDomains(tag: number, domains: string[]): void {
    for (let i = 0; i < domains.length; i += MAX_DOMAINS_PER_MESSAGE)
      this.send(tag, { domains: domains.slice(i, i + MAX_DOMAINS_PER_MESSAGE) });
  }

  private report(code: ErrorCodeName, message: string): void {
    this.ctx.onError?.(new NetError(code, message));
  }

  /** Each send tick: notice a new session (not a resume: subscriptions are renewed), expire actions. */
  private tick(): void {
    const id = this.clientId;
    if (id !== this.lastClientId) {
      const resumed = this.ctx.session.welcome?.resumed ?? false;
      if (this.lastClientId !== 0 && !resumed) {
        this.myRole = null;
        if (this.domains.size > 0) this.sendDomains(Tag.NotifySubscribe, [...this.domains]);
      }
      this.lastClientId = id;
    }
    this.actions.expire(this.ctx.clock.now());
  }

  private ended(): void {
    this.grabs.failAll();
    this.actions.failAll('disconnected', 'the session ended before an answer came');
  }

  private message(tag: number, msg: Uint8Array): boolean {
    switch (tag) {
      case Tag.OwnershipRevoke: {
        const b = this.body(msg, parseOwnershipRevoke, 'OwnershipRevoke');
        if (b) this.grabs.denied(b);
        return true;
      }
      case Tag.CommandEntry: {
        const b = this.body(msg, parseCommandBatch, 'CommandEntry');
        if (b) this.replica.applyBatch(b);
        return true;
      }
      case Tag.CommandReject: {
        const b = this.body(msg, parseCommandReject, 'CommandReject');
        if (b && b.seq !== 0 && this.replica.rejected(b.seq)) this.events.emit('commandRejected', b.seq, b.reason);
        return true;
      }
      case Tag.CommandSnapshot: {
        // Chunked (and maybe deflated) like a world snapshot: applied once the last chunk arrived.
        const b = readBody(msg, (v) => v);
        const done = this.commandChunks.accept(b);
        if (typeof done === 'object') this.replica.applySnapshot(done);
        else if (done !== 'partial') this.report('DecodeError', done);
        return true;
      }
      case Tag.RoleChange: {
        const b = this.body(msg, parseRoleChange, 'RoleChange');
        if (!b) return true;
        if (b.clientId === this.clientId) this.myRole = b.role;
        this.events.emit('roleChanged', b.clientId, b.role);
        return true;
      }
      case Tag.HostMigration: {
        const b = this.body(msg, parseHostMigration, 'HostMigration');
        if (b && b.clientId !== this.hostId) {
          this.hostId = b.clientId;
          this.events.emit('hostChanged', b.clientId);
        }
        return true;
      }
      case Tag.Kick:
      case Tag.Ban: {
        const b = this.body(msg, parseRemoval, tag === Tag.Kick ? 'Kick' : 'Ban');
        if (b) this.events.emit('removed', b.reason, tag === Tag.Ban);
        return true;
      }
      case Tag.Progress: {
        const b = this.body(msg, parseProgress, 'Progress');
        if (b) this.actions.progress(b);
        return true;
      }
      case Tag.ActionOk: {
        const b = this.body(msg, parseActionOk, 'ActionOk');
        if (b) this.actions.ok(b);
        return true;
      }
      case Tag.ActionErr: {
        const b = this.body(msg, parseActionErr, 'ActionErr');
        if (b) this.actions.err(b);
        return true;
      }
      case Tag.Notify: {
        const b = this.body(msg, parseNotify, 'Notify');
        if (b && this.domains.has(b.domain)) this.events.emit('notify', b.domain, b.event, b.correlationId);
        return true;
      }
      case Tag.Signal: {
        const b = this.body(msg, parseSignalIn, 'Signal');
        if (b) this.events.emit('signal', b.from, b.signal);
        return true;
      }
      default:
        return false;
    }
  }

  private body<T>(msg: Uint8Array, parse: (v: unknown) => T | null, name: string): T | null {
    const body = readBody(msg, parse);
    if (body === null) this.report('DecodeError', `malformed ${name} from the server`);
    return body;
  }
}
