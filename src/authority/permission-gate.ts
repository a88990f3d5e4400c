/**
 * The permission gate: the server session asks it about every message a connected client sends, before anything
 * else handles it. A tag the client's role may not send is dropped, counted (as a rejected write for state
 * writes), reported, answered with a non-fatal `Error {Forbidden}` at most every FORBIDDEN_REPLY_INTERVAL_MS, and
 * answered in kind where the client waits for an answer: an action fails, a command or a grab is refused.
 */
import { readBody } from '../codec/msgpack-body.ts';
import { encodeControl } from '../codec/message-frame.ts';
import { Tag, tagName } from '../protocol/tags.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';
import { parseAction } from './app-wire.ts';
import { parseOwnershipRequest } from './authority-wire.ts';
import { parseCommandEntry } from './command-wire.ts';
import type { PermissionTable } from './roles.ts';

/** Forbidden replies to one client at most this often: the offence is counted every time, the reply is a hint. */
export const FORBIDDEN_REPLY_INTERVAL_MS = 250;

/** What the gate needs from the authority layer. */
export interface GateHost {
  readonly session: ServerSession;
  now(): number;
  isHost(clientId: number): boolean;
  /** A refused message: count it, emit it, report it. */
  refused(peer: ServerPeer, tag: number, message: string): void;
}

/** Checks every client message against the permission table. */
export class PermissionGate {
  private readonly lastReply = new Map<number, number>();

  constructor(
    private readonly table: PermissionTable,
    private readonly host: GateHost,
  ) {}

  /** True when `peer` may send `tag`; otherwise refuses `msg` and returns false. */
  permit(peer: ServerPeer, tag: number, msg: Uint8Array): boolean {
    if (this.table.allows(tag, peer.role, this.host.isHost(peer.clientId))) return true;
    if (tag === Tag.Delta || tag === Tag.InputPoses) peer.counters.rejectedWrites++;
    const message = `client ${peer.clientId} (${peer.role}) may not send ${tagName(tag) ?? `tag ${tag}`}`;
    this.host.refused(peer, tag, message);
    this.answerInKind(peer, tag, msg);
    const now = this.host.now();
    if (now - (this.lastReply.get(peer.clientId) ?? -Infinity) >= FORBIDDEN_REPLY_INTERVAL_MS) {
      this.lastReply.set(peer.clientId, now);
      this.host.session.sendError(peer, 'Forbidden', message, false);
    }
    return false;
  }

  /** Forgets a client that left. */
  forget(clientId: number): void {
    this.lastReply.delete(clientId);
  }

  private answerInKind(peer: ServerPeer, tag: number, msg: Uint8Array): void {
    let reply: [number, unknown] | null = null;
    if (tag === Tag.Action) {
      const body = readBody(msg, parseAction);
      if (body) reply = [Tag.ActionErr, { opId: body.opId, code: 'forbidden', message: 'your role may not act' }];
    } else if (tag === Tag.CommandEntry) {
      const entry = readBody(msg, (v) => parseCommandEntry(v, peer.clientId));
      if (entry) reply = [Tag.CommandReject, { s: entry.seq, reason: 'forbidden' }];
    } else if (tag === Tag.OwnershipRequest) {
      const body = readBody(msg, parseOwnershipRequest);
      if (body) reply = [Tag.OwnershipRevoke, { netId: body.netId, reason: 'refused' }];
    }
    if (reply && peer.connection.isOpen) peer.connection.sendReliable(encodeControl(reply[0], reply[1]));
  }
}
