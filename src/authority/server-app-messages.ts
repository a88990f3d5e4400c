/**
 * The server's application messages: actions run through the application's handler, notifications filtered by
 * each client's subscribed domains, and the signalling relay between members of the session.
 */
import { readBody } from '../codec/msgpack-body.ts';
import { encodeControl } from '../codec/message-frame.ts';
import { type ErrorCodeName, usageError } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';
import { type ActionHandler, ActionRunner } from './actions.ts';
import type { WriteOutcome } from '../replication/gated-write.ts';
import {
  asDomain,
  type CorrelationId,
  type NotifyBody,
  parseAction,
  parseDomains,
  parseSignalOut,
} from './app-wire.ts';
import { NotificationHub, type NotifyTarget } from './notifications.ts';
import { type AllowSignal, SignalRelay } from './signalling.ts';

/** Options of the application messages (a part of `ServerAuthorityOptions`). */
export interface AppMessageOptions {
  /** Runs client actions. */
  onAction?: ActionHandler;
  /** May `clientId` subscribe to notification `domain`? Default: yes. */
  allowDomain?: (clientId: number, domain: string) => boolean;
  /** May `from` signal `to`? Default: any two members. */
  allowSignal?: AllowSignal;
}

/** What the application messages need from the authority layer. */
export interface AppMessageHost {
  send(peer: ServerPeer, tag: number, body: unknown): void;
  /** A body that did not decode. */
  malformed(peer: ServerPeer, what: string): void;
  report(code: ErrorCodeName, message: string): void;
  /** A write for client `clientId` through the write gate (an action handler's `write`). */
  write(clientId: number, eid: number, component: object, values: Readonly<Record<string, number>>): WriteOutcome;
}

/** Actions, notifications and signalling on the server. */
export class ServerAppMessages {
  readonly actions: ActionRunner;
  readonly hub = new NotificationHub();
  readonly relay: SignalRelay;
  /** Notifications delivered (one per recipient). */
  notifications = 0;

  constructor(
    private readonly session: ServerSession,
    private readonly options: AppMessageOptions,
    private readonly host: AppMessageHost,
  ) {
    const toId = (tag: number) => (id: number, body: unknown) => {
      const peer = session.peers.get(id);
      if (peer) host.send(peer, tag, body);
    };
    this.actions = new ActionRunner(options.onAction ?? null, {
      progress: toId(Tag.Progress),
      ok: toId(Tag.ActionOk),
      err: toId(Tag.ActionErr),
      failed: (id, opId, e) =>
        host.report('Forbidden', `action ${opId} of client ${id} threw: ${e instanceof Error ? e.message : String(e)}`),
      write: (id, eid, component, values) => host.write(id, eid, component, values),
    });
    this.relay = new SignalRelay((id) => session.peers.has(id), options.allowSignal ?? null);
  }

  /** Handles Action, NotifySubscribe, NotifyUnsubscribe and Signal; false for any other tag. */
  message(peer: ServerPeer, tag: number, msg: Uint8Array): boolean {
    switch (tag) {
      case Tag.Action: {
        const body = readBody(msg, parseAction);
        if (body) this.actions.run(peer.clientId, peer.role, body.opId, body.action);
        else this.host.malformed(peer, 'Action');
        return true;
      }
      case Tag.NotifySubscribe:
      case Tag.NotifyUnsubscribe: {
        const body = readBody(msg, parseDomains);
        if (!body) this.host.malformed(peer, 'NotifySubscribe');
        else if (tag === Tag.NotifyUnsubscribe) this.hub.unsubscribe(peer.clientId, body.domains);
        else {
          const allow = this.options.allowDomain;
          const refused = this.hub.subscribe(peer.clientId, body.domains, (d) => !allow || allow(peer.clientId, d));
          if (refused.length > 0)
            this.session.sendError(peer, 'Forbidden', `not subscribed to: ${refused.join(', ')}`, false);
        }
        return true;
      }
      case Tag.Signal: {
        const body = readBody(msg, parseSignalOut);
        if (!body) {
          this.host.malformed(peer, 'Signal');
          return true;
        }
        const verdict = this.relay.decide(peer.clientId, body.to, body.signal);
        const target = this.session.peers.get(body.to);
        if (verdict === 'relay' && target)
          this.host.send(target, Tag.Signal, { from: peer.clientId, signal: body.signal });
        else this.session.sendError(peer, 'Forbidden', `cannot signal client ${body.to} (${verdict})`, false);
        return true;
      }
      default:
        return false;
    }
  }

  /** Sends a notification to the subscribers of `domain` (or only `to`); returns how many clients it reached. */
  notify(domain: string, event: unknown, options: { correlationId?: CorrelationId; to?: NotifyTarget }): number {
    if (asDomain(domain) === undefined)
      usageError(`notification domain '${domain}' is invalid`, 'use 1..64 characters');
    const body: NotifyBody = { domain, event };
    if (options.correlationId !== undefined) body.correlationId = options.correlationId;
    const to = options.to;
    const candidates: number[] = [];
    for (const p of this.session.peers.values()) {
      if (to === undefined || (typeof to === 'number' ? p.clientId === to : p.userId === to.userId))
        candidates.push(p.clientId);
    }
    const recipients = this.hub.recipients(domain, candidates);
    if (recipients.length === 0) return 0;
    const msg = encodeControl(Tag.Notify, body);
    for (const id of recipients) this.session.peers.get(id)?.connection.sendReliable(msg);
    this.notifications += recipients.length;
    return recipients.length;
  }

  /** A client left for good. */
  forget(clientId: number): void {
    this.hub.forget(clientId);
    this.actions.forget(clientId);
  }
}
