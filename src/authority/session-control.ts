/**
 * Session control on the server: role changes, kick, ban and the privileged host. Rights follow a ladder
 * (viewer < participant < admin < host): a client may act only on clients below it, and may give roles up to its
 * own. The first admin to join becomes the host; when the host leaves for good, the privilege migrates to the
 * connected admin with the lowest client id (the same choice on every run), or to nobody.
 */
import { readBody } from '../codec/msgpack-body.ts';
import type { ErrorCodeName } from '../errors.ts';
import type { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer } from '../session/server-session.ts';
import type { ServerAuthorityEvents } from './authority-events.ts';
import { parseHostMigration, parseRemoval, parseRoleChange } from './authority-wire.ts';
import { asRole, type Role, roleRank } from './roles.ts';

/** What session control needs from the server. */
export interface ControlHost {
  /** Connected clients. */
  connected(): Iterable<ServerPeer>;
  /** A connected or suspended client. */
  peer(clientId: number): ServerPeer | undefined;
  broadcast(tag: number, body: unknown): void;
  send(peer: ServerPeer, tag: number, body: unknown): void;
  disconnect(peer: ServerPeer, code: ErrorCodeName, message: string): void;
  /** Adds the client's identities (user id, public key) to the ban list. */
  ban(peer: ServerPeer): void;
  /** A role was applied: release what the role may no longer hold, re-evaluate interest, update presence. */
  roleApplied(peer: ServerPeer, previous: string): void;
  /** A control message whose body did not decode. */
  malformed(peer: ServerPeer, what: string): void;
  /** A control request the sender may not make (count, report, answer Forbidden). */
  refused(peer: ServerPeer, message: string): void;
}

/** Outcome of a control request. */
export type ControlResult = 'ok' | 'forbidden' | 'unknown-client';

/** Roles, kicks, bans and the host. */
export class SessionControl {
  /** The privileged host's client id, 0 when there is none. */
  hostId = 0;
  /** Counters of role changes, kicks, bans and host migrations. */
  readonly counters = {
    /** Role changes applied. */
    roleChanges: 0,
    /** Clients kicked. */
    kicks: 0,
    /** Clients banned. */
    bans: 0,
    /** Changes of the privileged host. */
    hostMigrations: 0,
  };

  constructor(
    private readonly host: ControlHost,
    private readonly events: Emitter<ServerAuthorityEvents>,
    private readonly autoHost: boolean,
  ) {}

  /** Rank of a client on the ladder (host 3, admin 2, participant 1, viewer or unknown 0). */
  rankOf(peer: ServerPeer): number {
    return roleRank(peer.role, peer.clientId === this.hostId);
  }

  /** True when `actor` (null = the server itself) may act on `target`. */
  mayActOn(actor: ServerPeer | null, target: ServerPeer): boolean {
    return actor === null || (actor !== target && this.rankOf(actor) > this.rankOf(target));
  }

  /** Handles RoleChange, Kick, Ban and HostMigration requests from `peer`; false for any other tag. */
  message(peer: ServerPeer, tag: number, msg: Uint8Array): boolean {
    let result: ControlResult;
    let what: string;
    if (tag === Tag.RoleChange) {
      const body = readBody(msg, parseRoleChange);
      if (!body) return this.malformed(peer, 'RoleChange');
      result = this.setRole(body.clientId, body.role, peer);
      what = `give client ${body.clientId} the role ${body.role}`;
    } else if (tag === Tag.Kick || tag === Tag.Ban) {
      const body = readBody(msg, parseRemoval);
      if (!body) return this.malformed(peer, tag === Tag.Kick ? 'Kick' : 'Ban');
      result = this.remove(body.clientId, body.reason, tag === Tag.Ban, peer);
      what = `remove client ${body.clientId}`;
    } else if (tag === Tag.HostMigration) {
      const body = readBody(msg, parseHostMigration);
      if (!body) return this.malformed(peer, 'HostMigration');
      result = this.setHost(body.clientId, peer);
      what = `make client ${body.clientId} the host`;
    } else return false;
    if (result !== 'ok') this.host.refused(peer, `client ${peer.clientId} may not ${what}: ${result}`);
    return true;
  }

  private malformed(peer: ServerPeer, what: string): true {
    this.host.malformed(peer, what);
    return true;
  }

  /** A client joined: the first admin becomes the host. Tells the newcomer who the host is. */
  joined(peer: ServerPeer): void {
    if (this.autoHost && this.hostId === 0 && asRole(peer.role) === 'admin') this.setHostId(peer.clientId);
    else this.host.send(peer, Tag.HostMigration, { clientId: this.hostId });
  }

  /** A client left for good: a leaving host hands over. */
  left(peer: ServerPeer): void {
    if (peer.clientId === this.hostId) this.migrate(peer.clientId);
  }

  /** Gives `role` to `clientId`, at once. */
  setRole(clientId: number, role: Role, actor: ServerPeer | null): ControlResult {
    const target = this.host.peer(clientId);
    if (!target) return 'unknown-client';
    if (!this.mayActOn(actor, target) || (actor !== null && roleRank(role) > this.rankOf(actor))) return 'forbidden';
    const previous = target.role;
    if (previous === role) return 'ok';
    target.role = role;
    this.counters.roleChanges++;
    this.host.roleApplied(target, previous);
    this.host.broadcast(Tag.RoleChange, { clientId, role });
    this.events.emit('roleChanged', clientId, role);
    if (clientId === this.hostId && role !== 'admin') this.migrate(clientId);
    else if (this.autoHost && this.hostId === 0 && role === 'admin' && target.state === 'connected')
      this.setHostId(clientId);
    return 'ok';
  }

  /** Removes `clientId` from the session (kick), and bans its identity when `ban` is set. */
  remove(clientId: number, reason: string, ban: boolean, actor: ServerPeer | null): ControlResult {
    const target = this.host.peer(clientId);
    if (!target) return 'unknown-client';
    if (!this.mayActOn(actor, target)) return 'forbidden';
    if (ban) {
      this.counters.bans++;
      this.host.ban(target);
    } else this.counters.kicks++;
    if (target.state === 'connected') this.host.send(target, ban ? Tag.Ban : Tag.Kick, { clientId, reason });
    const what = ban ? 'banned' : 'kicked';
    this.host.disconnect(target, ban ? 'Banned' : 'Forbidden', reason ? `${what}: ${reason}` : what);
    return 'ok';
  }

  /** Makes `clientId` (a connected admin) the host; only the host itself (or the server) may hand over. */
  setHost(clientId: number, actor: ServerPeer | null): ControlResult {
    const target = this.host.peer(clientId);
    if (!target || target.state !== 'connected') return 'unknown-client';
    if (actor !== null && actor.clientId !== this.hostId) return 'forbidden';
    if (asRole(target.role) !== 'admin') return 'forbidden';
    this.setHostId(clientId);
    return 'ok';
  }

  /** Hands the host privilege to the connected admin with the lowest client id other than `leaving`, or to nobody. */
  private migrate(leaving: number): void {
    let next = 0;
    for (const p of this.host.connected()) {
      if (p.clientId !== leaving && asRole(p.role) === 'admin' && (next === 0 || p.clientId < next)) next = p.clientId;
    }
    this.setHostId(next);
  }

  private setHostId(clientId: number): void {
    if (this.hostId === clientId) return;
    this.hostId = clientId;
    this.counters.hostMigrations++;
    this.host.broadcast(Tag.HostMigration, { clientId });
    this.events.emit('hostChanged', clientId);
  }
}
