/**
 * The session's own messages from a connected client: Goodbye, Ping/Pong (heartbeats and clock sync), Presence
 * status and reported Errors. Every other tag belongs to the layer above.
 */
import { encodeControl } from '../codec/message-frame.ts';
import { readBody } from '../codec/msgpack-body.ts';
import type { ErrorCodeName } from '../errors.ts';
import { parseErrorBody } from '../protocol/handshake.ts';
import { parsePresenceStatus, parseTimeBody } from '../protocol/session-messages.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer } from './server-peer.ts';
import type { ServerPresence } from './server-presence.ts';

/** What the control messages need from the server session. */
export interface ServerControlHost {
  report(code: ErrorCodeName, message: string): void;
  leave(peer: ServerPeer, reason: string): void;
}

/** Handles the session-level messages of connected clients. */
export class ServerControl {
  constructor(
    private readonly host: ServerControlHost,
    private readonly presence: ServerPresence,
  ) {}

  /** Handles `tag` when it is a session message and returns true; false leaves it to the layer above. */
  message(peer: ServerPeer, tag: number, msg: Uint8Array, now: number): boolean {
    switch (tag) {
      case Tag.Hello:
      case Tag.ChallengeResponse:
        return true; // duplicate handshake message on an established peer
      case Tag.Goodbye:
        this.host.leave(peer, 'goodbye');
        return true;
      case Tag.Ping:
        this.onPing(peer, msg, now);
        return true;
      case Tag.Pong:
        this.body(peer, msg, parseTimeBody, 'Pong'); // hearing it is what counts; a malformed one is still counted
        return true;
      case Tag.Presence: {
        const body = this.body(peer, msg, parsePresenceStatus, 'Presence');
        if (body) this.presence.setStatus(peer, body.status);
        return true;
      }
      case Tag.Error: {
        const body = this.body(peer, msg, parseErrorBody, 'Error');
        if (body)
          this.host.report('DecodeError', `client ${peer.clientId} reports error ${body.code}: ${body.message}`);
        return true;
      }
      case Tag.Welcome:
      case Tag.Shutdown:
        peer.counters.unknownTags++; // server-to-client messages mean nothing here
        return true;
      default:
        return false;
    }
  }

  /** Counts and reports a malformed message of `peer`. */
  decodeError(peer: ServerPeer, what: string): void {
    peer.counters.decodeErrors++;
    this.host.report('DecodeError', `client ${peer.clientId || '(handshaking)'}: ${what}`);
  }

  /** Decodes and validates a control body; counts and reports a bad one and returns null. */
  private body<T>(peer: ServerPeer, msg: Uint8Array, parse: (v: unknown) => T | null, name: string): T | null {
    const body = readBody(msg, parse);
    if (body === null) this.decodeError(peer, `malformed ${name}`);
    return body;
  }

  private onPing(peer: ServerPeer, msg: Uint8Array, now: number): void {
    const body = this.body(peer, msg, parseTimeBody, 'Ping');
    if (!body || body.clientTime === undefined) return;
    peer.connection.sendUnreliable(encodeControl(Tag.Pong, { clientTime: body.clientTime, serverTime: now }));
    peer.needsFlush = true;
  }
}
