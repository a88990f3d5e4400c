/**
 * Lets each geckos.io client transport choose its RTCPeerConnection implementation (node-datachannel/polyfill's in
 * Node, the native one in browsers) although @geckos.io/client always constructs the global one. Imports nothing from Node.
 */
import { usageError } from '../errors.ts';

/** A constructor of RTCPeerConnection-compatible objects (node-datachannel/polyfill's in Node). */
export type PeerConnectionConstructor = new (configuration: never) => unknown;

/** Key under which a configuration carries its constructor to the dispatcher below. */
export const PEER_CONNECTION_KEY = Symbol.for('ecsync.geckos.RTCPeerConnection');
const DISPATCHER_MARK = Symbol.for('ecsync.geckos.dispatcher');

/** Stand-in for the browser's RTCSessionDescription, which @geckos.io/client constructs and Node lacks. */
class SessionDescription {
  readonly type: string;
  readonly sdp: string;
  constructor(init: { type: string; sdp?: string }) {
    this.type = init.type;
    this.sdp = init.sdp ?? '';
  }
  toJSON(): { type: string; sdp: string } {
    return { type: this.type, sdp: this.sdp };
  }
}

/**
 * @geckos.io/client constructs the *global* RTCPeerConnection. To let each transport choose its own, the global
 * becomes (once) a dispatcher that builds the constructor found in the configuration, or the previous global.
 */
export function installPeerConnectionDispatcher(): void {
  const scope = globalThis as unknown as Record<string, unknown>;
  const previous = scope.RTCPeerConnection as (PeerConnectionConstructor & Record<symbol, unknown>) | undefined;
  if (previous?.[DISPATCHER_MARK]) return;
  function RTCPeerConnectionDispatcher(configuration: Record<PropertyKey, unknown> = {}): unknown {
    const { [PEER_CONNECTION_KEY]: chosen, ...rest } = configuration;
    const Ctor = (chosen ?? previous) as (new (configuration: unknown) => unknown) | undefined;
    if (!Ctor) {
      return usageError(
        'no RTCPeerConnection',
        "pass { RTCPeerConnection } (in Node, from 'node-datachannel/polyfill') to the transport",
      );
    }
    const peerConnection = new Ctor(rest) as { addIceCandidate?: (candidate: unknown) => Promise<void> };
    const addIceCandidate = peerConnection.addIceCandidate?.bind(peerConnection);
    if (addIceCandidate) {
      // @geckos.io/client adds polled candidates without awaiting them; one arriving after the connection closed
      // rejects, which must not become an unhandled rejection in the application.
      peerConnection.addIceCandidate = (candidate) => {
        const added = addIceCandidate(candidate);
        added.catch(() => {});
        return added;
      };
    }
    return peerConnection;
  }
  Object.defineProperty(RTCPeerConnectionDispatcher, DISPATCHER_MARK, { value: true });
  if (previous) RTCPeerConnectionDispatcher.prototype = previous.prototype;
  scope.RTCPeerConnection = RTCPeerConnectionDispatcher;
  if (typeof scope.RTCSessionDescription !== 'function') scope.RTCSessionDescription = SessionDescription;
}
