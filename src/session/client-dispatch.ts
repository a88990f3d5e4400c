/**
 * The server's messages to a client, inside the containment boundary (a throw while handling one is counted and
 * reported, never raised into the game loop): the handshake's (Welcome, Challenge), Error, Shutdown, Move,
 * Ping/Pong (heartbeats and clock samples), Presence; every other tag goes to the layer above once connected.
 */
import { readBody } from '../codec/msgpack-body.ts';
import { encodeControl, readMessageTag } from '../codec/message-frame.ts';
import type { Connection } from '../connection/connection.ts';
import { type ErrorCodeName, errorCodeName, NetError } from '../errors.ts';
import type { Emitter } from '../events.ts';
import { type ErrorBody, parseErrorBody, parseWelcome } from '../protocol/handshake.ts';
import { describeSchemaDifference } from '../protocol/schema-diff.ts';
import { parseFarewell, parseMove, parsePresence, parseTimeBody } from '../protocol/session-messages.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientHandshake } from './client-handshake.ts';
import type { ClientLinkTimes } from './client-link-times.ts';
import type { ClientHandler, ClientSessionOptions } from './client-session-options.ts';
import type { ClockSync } from './clock-sync.ts';
import type { MemberKeys } from './member-keys.ts';
import type { ClientState, PresenceList, SessionEvents } from './presence-list.ts';

/** What the dispatch needs from the client session. */
export interface ClientDispatchHost {
  readonly options: ClientSessionOptions;
  readonly events: Emitter<SessionEvents>;
  readonly handshake: ClientHandshake;
  readonly clockSync: ClockSync;
  readonly memberKeys: MemberKeys;
  readonly presenceList: PresenceList;
  readonly times: ClientLinkTimes;
  state(): ClientState;
  /** The current link, if any. */
  connection(): Connection | null;
  /** The layer above, if set yet. */
  handler(): ClientHandler | null;
  /** Counts one exception caught at the boundary. */
  contained(): void;
  fail(code: ErrorCodeName, message: string): void;
  end(reason: string): void;
}

/** Decodes a server message's body; null (and a DecodeError reported through `onError`) when malformed. */
export function readServerBody<T>(
  options: ClientSessionOptions,
  msg: Uint8Array,
  parse: (v: unknown) => T | null,
  name: string,
): T | null {
  const body = readBody(msg, parse);
  if (body === null) options.onError?.(new NetError('DecodeError', `malformed ${name}`));
  return body;
}

/** Routes each message from the server. */
export class ClientDispatch {
  constructor(private readonly h: ClientDispatchHost) {}

  /** One message from the server, inside the containment boundary: a throw while handling it is reported, not raised. */
  dispatch(msg: Uint8Array, packetSeq: number): void {
    try {
      this.dispatchMessage(msg, packetSeq);
    } catch (e) {
      this.h.contained();
      const why = e instanceof Error ? e.message : String(e);
      this.h.options.onError?.(
        new NetError('InternalError', `handling a server message (tag ${readMessageTag(msg)}) threw: ${why}`),
      );
    }
  }

  private dispatchMessage(msg: Uint8Array, packetSeq: number): void {
    const h = this.h;
    const tag = readMessageTag(msg);
    if (tag < 0) {
      h.options.onError?.(new NetError('DecodeError', 'message shorter than its tag'));
      return;
    }
    switch (tag) {
      case Tag.Welcome: {
        const welcome = this.body(msg, parseWelcome, 'Welcome');
        if (welcome) h.handshake.welcome(welcome);
        return;
      }
      case Tag.Challenge:
        h.handshake.challenge(msg);
        return;
      case Tag.Error: {
        const body = this.body(msg, parseErrorBody, 'Error');
        if (!body) return;
        const name = errorCodeName(body.code) ?? 'DecodeError';
        const message = name === 'SchemaMismatch' ? this.schemaMessage(body.message, body.schema) : body.message;
        if (body.fatal) h.fail(name, message);
        else h.options.onError?.(new NetError(name, message));
        return;
      }
      case Tag.Shutdown: {
        const reason = this.body(msg, parseFarewell, 'Shutdown');
        h.end(reason ? `the server shut down: ${reason}` : 'the server shut down');
        return;
      }
      case Tag.Move: {
        const notice = this.body(msg, parseMove, 'Move');
        if (!notice || h.state() !== 'connected') return;
        h.end('the room moved to another process');
        h.events.emit('moved', notice);
        return;
      }
      case Tag.Ping: {
        const body = this.body(msg, parseTimeBody, 'Ping');
        const conn = h.connection();
        if (!body || body.serverTime === undefined || !conn) return;
        const now = h.options.clock.now();
        conn.sendUnreliable(encodeControl(Tag.Pong, { serverTime: body.serverTime, clientTime: now }));
        h.times.needsFlush = true;
        return;
      }
      case Tag.Pong: {
        const body = this.body(msg, parseTimeBody, 'Pong');
        const now = h.options.clock.now();
        // A sent time in the future cannot be one of our pings.
        if (body && body.clientTime !== undefined && body.serverTime !== undefined && body.clientTime <= now)
          h.clockSync.add(body.clientTime, body.serverTime, now);
        return;
      }
      case Tag.Presence: {
        const body = this.body(msg, parsePresence, 'Presence');
        if (!body) return;
        for (const id of h.memberKeys.learn(body))
          h.options.onError?.(new NetError('ForgedCommand', `the server tried to change the key of client ${id}`));
        if (h.presenceList.apply(body)) h.events.emit('presence', h.presenceList.list);
        return;
      }
      default:
        if (h.state() === 'connected') h.handler()?.message(tag, msg, packetSeq);
      // Before Welcome nothing else is meaningful; unknown tags are skipped.
    }
  }

  /** The server's SchemaMismatch message, with the first difference its summary shows against our manifest. */
  private schemaMessage(message: string, schema: ErrorBody['schema']): string {
    const local = this.h.options.manifest;
    if (!schema || !local) return message;
    let diff: string | null;
    try {
      diff = describeSchemaDifference(local, schema);
    } catch {
      diff = null; // a hostile summary (e.g. JSON nested too deep) never throws into the game loop
    }
    return diff === null ? message : `${message}; first difference: ${diff}`;
  }

  private body<T>(msg: Uint8Array, parse: (v: unknown) => T | null, name: string): T | null {
    return readServerBody(this.h.options, msg, parse, name);
  }
}
