/**
 * Scope requests from clients: Subscribe {scope} / Unsubscribe {scope} change a client's scope membership, if
 * `allowScope` agrees; Subscribe {receive, scope | netId} is the client's receive toggle for a scope or an entity.
 * Every request naming a scope that adds one is held to the scope bounds (scope-names.ts).
 */
import { decodeBody } from '../codec/msgpack-body.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import { asString, asUint, isRecord } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { InterestToggles } from './interest-toggles.ts';
import type { InterestIndex } from './interest.ts';
import type { PeerReplication } from './peer-replication.ts';
import type { ScopeLimits } from './scope-names.ts';

/** Longest scope name a request may carry, in characters. */
const MAX_SCOPE_NAME_CHARS = 256;

/** What scope requests are checked against and applied to. */
export interface ScopeRequestsHost {
  readonly registry: EntityRegistry;
  readonly interest: InterestIndex;
  readonly toggles: InterestToggles;
  readonly peers: ReadonlyMap<number, PeerReplication>;
  readonly allowScope: ((clientId: number, scope: string) => boolean) | null;
  readonly scopeLimits: Required<ScopeLimits>;
  readonly session: Pick<ServerSession, 'sendError'>;
  readonly onError: ErrorHandler | undefined;
}

/** Subscribe and Unsubscribe messages. */
export class ScopeRequests {
  private readonly h: ScopeRequestsHost;

  constructor(host: ScopeRequestsHost) {
    this.h = host;
  }

  /**
   * Subscribe {scope} / Unsubscribe {scope}: scope membership, if `allowScope` agrees.
   * Subscribe {receive, scope | netId}: the client's receive toggle for a scope or an entity.
   */
  onSubscribe(peer: ServerPeer, tag: number, msg: Uint8Array): void {
    const decoded = decodeBody(msg.subarray(2));
    const body = decoded.ok && isRecord(decoded.value) ? decoded.value : null;
    const scope = body ? asString(body.scope, MAX_SCOPE_NAME_CHARS) : undefined;
    const netId = body ? asUint(body.netId) : undefined;
    if (body === null || (scope === undefined && netId === undefined)) {
      peer.counters.decodeErrors++;
      this.h.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed Subscribe`));
      return;
    }
    const receive = typeof body.receive === 'boolean' ? body.receive : null;
    // Every path naming a scope goes through allowScope and the scope bounds (pausing adds a name, like subscribing).
    if (scope !== undefined && !this.admitScope(peer, scope, receive === null ? tag === Tag.Subscribe : !receive))
      return;
    const toggles = this.h.toggles;
    if (receive !== null) {
      const eid = netId !== undefined ? this.h.registry.toLocal(netId) : 0;
      if (scope !== undefined) toggles.setReceive(peer.clientId, { scope }, receive);
      else if (eid !== 0) toggles.setReceive(peer.clientId, { eid }, receive);
      return;
    }
    if (scope === undefined) return;
    toggles.setClientScope(peer.clientId, scope, tag === Tag.Subscribe);
  }

  /**
   * May `peer` name `scope` (allowScope), and, when the request `adds` the scope to its subscriptions or pauses,
   * does it fit the bounds (names in all, scopes per client)? A refusal is reported and answered with an Error.
   */
  private admitScope(peer: ServerPeer, scope: string, adds: boolean): boolean {
    const h = this.h;
    if (h.allowScope && !h.allowScope(peer.clientId, scope)) {
      h.session.sendError(peer, 'Forbidden', `scope '${scope}' is not open to this client`, false);
      return false;
    }
    const p = h.peers.get(peer.clientId);
    if (!adds || !p) return true;
    const names = h.interest.names;
    const id = names.idOf(scope);
    if (id !== undefined && (p.interest.scopes.has(id) || p.interest.pausedScopes.has(id))) return true;
    const limits = h.scopeLimits;
    let message = '';
    if (p.interest.scopes.size + p.interest.pausedScopes.size >= limits.maxScopesPerClient)
      message = `client ${peer.clientId} holds ${limits.maxScopesPerClient} scopes already`;
    else if (id === undefined && names.size >= limits.maxScopes)
      message = `${limits.maxScopes} scope names exist already; '${scope.slice(0, 64)}' refused`;
    if (message === '') return true;
    names.counters.refused++;
    h.onError?.(new NetError('LimitExceeded', message));
    h.session.sendError(peer, 'LimitExceeded', message, false);
    return false;
  }
}
