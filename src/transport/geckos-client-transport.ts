/**
 * The client side of the geckos.io transport, on @geckos.io/client: in a browser with the native RTCPeerConnection,
 * in Node with an injected one (node-datachannel/polyfill's). Imports nothing from Node, so bundlers can ship it to
 * the browser. Built against @geckos.io/client 3.1.0, whose internals it reaches in one place (`GeckosClientInternals`).
 */
import geckosClient from '@geckos.io/client';
import { NetError, usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { MAX_PACKET_BYTES } from './transport.ts';
import type { ClientTransport, CloseReason, IceServer, Link } from './transport.ts';
import { PEER_CONNECTION_KEY, installPeerConnectionDispatcher } from './peer-connection-dispatcher.ts';
import type { PeerConnectionConstructor } from './peer-connection-dispatcher.ts';
import { SocketLink } from './socket-link.ts';
import type { LinkCounters } from './socket-link.ts';

export type { PeerConnectionConstructor } from './peer-connection-dispatcher.ts';

/** How long `connect()` waits for the data channel by default: signalling plus ICE plus DTLS, with room for TURN. */
export const GECKOS_CONNECT_TIMEOUT_MS = 10_000;

/** Grace before a local close tears the peer connection down, so queued packets (a Goodbye) still leave. */
export const CLOSE_DRAIN_MS = 100;

/** Bytes the data channel may hold before `send` drops: four full packets (as the server's GECKOS_MAX_BUFFERED_BYTES). */
export const GECKOS_CLIENT_MAX_BUFFERED_BYTES = 4 * MAX_PACKET_BYTES;

/** Options of `createGeckosClientTransport`. */
export interface GeckosClientTransportOptions {
  /** Scheme and host of the signalling server, without port: 'https://example.com', 'http://127.0.0.1'. */
  url: string;
  /** Port of the signalling server (the page's own port when it is served by the same HTTP server). */
  port: number;
  /** Data channel label; must match the server's (geckos.io's default 'geckos.io'). */
  label?: string;
  /** Sent as the HTTP Authorization header; the server's `authorization` hook checks it. */
  authorization?: string;
  /** STUN/TURN servers; default none (loopback and LAN need none). */
  iceServers?: IceServer[];
  /** 'relay' uses TURN only (WebRTC's `iceTransportPolicy`). */
  iceTransportPolicy?: 'all' | 'relay';
  /** RTCPeerConnection to use instead of the global one; required in Node: node-datachannel/polyfill's. */
  RTCPeerConnection?: PeerConnectionConstructor;
  /**
   * Extra keys merged into every RTCPeerConnection configuration, e.g. `{ bindAddress: '127.0.0.1' }` for
   * node-datachannel's polyfill (libdatachannel then gathers and binds on that address only).
   */
  rtcConfiguration?: Record<string, unknown>;
  /** `connect()` rejects with a `Timeout` NetError when the channel is not open by then (default 10 s). */
  connectTimeoutMs?: number;
  /** Bytes the data channel may hold before `send` drops (default `GECKOS_CLIENT_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes?: number;
  /** Receives every problem caused by network input (non-binary or oversize messages). */
  onError?: ErrorHandler;
}

/** A link to a geckos.io server. */
export interface GeckosClientLink extends Link {
  /** geckos.io's channel id, as the server knows it. */
  readonly id: string;
  /** What the server's `authorization` hook returned as an object. */
  readonly userData: unknown;
  /** Packet counters of this link since creation. */
  readonly counters: LinkCounters;
}

/** The data channel and peer connection members used here (browser RTCDataChannel and the polyfill's alike). */
interface DataChannelLike {
  readonly readyState: string;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
}
interface PeerConnectionLike {
  readonly connectionState: string;
  close(): void | Promise<void>;
  addEventListener(type: string, listener: () => void): void;
}

/** The members of @geckos.io/client 3.1.0's ClientChannel this file reaches (some are private in its types). */
interface GeckosClientInternals {
  readonly id: string;
  readonly userData: unknown;
  connectionsManager: {
    rtcConfiguration: Record<PropertyKey, unknown>;
    dataChannel?: DataChannelLike;
    localPeerConnection?: PeerConnectionLike;
    /** The server's answer to the signalling request: its connection id, before the channel knows it. */
    remotePeerConnection?: { id?: unknown };
  };
  onConnect(callback: (error?: unknown) => void): Promise<void>;
  onRaw(callback: (data: unknown) => void): void;
}

class GeckosLink extends SocketLink implements GeckosClientLink {
  private dataChannel: DataChannelLike | null = null;
  private peerConnection: PeerConnectionLike | null = null;

  constructor(
    private readonly client: GeckosClientInternals,
    private readonly signallingUrl: string,
    maxBufferedBytes: number,
    onError: ErrorHandler | undefined,
  ) {
    super(null, maxBufferedBytes, onError);
  }

  get id(): string {
    return this.client.id;
  }

  get userData(): unknown {
    return this.client.userData;
  }

  /** Feeds one message from geckos.io's raw event. */
  deliver(data: unknown): void {
    this.receive(data);
  }

  /** Starts using the open channel; its end, or the peer connection's, closes the link. */
  attach(peerConnection: PeerConnectionLike, dataChannel: DataChannelLike): void {
    this.peerConnection = peerConnection;
    this.dataChannel = dataChannel;
    dataChannel.addEventListener('close', () => this.remoteClosed('closed by server'));
    peerConnection.addEventListener('connectionstatechange', () => {
      const state = peerConnection.connectionState;
      // 'closed' while the link is open: only the server can have closed it (node-datachannel's polyfill reports it
      // before the channel's own close event).
      if (state === 'closed') this.remoteClosed('closed by server');
      else if (state === 'failed' || state === 'disconnected') this.remoteClosed(`connection ${state}`);
    });
    if (dataChannel.readyState !== 'open') this.remoteClosed('closed by server');
  }

  /** Ends a connection attempt that was given up; any half-built peer connection is closed. */
  abandon(): void {
    this.peerConnection ??= this.client.connectionsManager.localPeerConnection ?? null;
    if (this.isOpen) this.close('connect abandoned');
    else this.teardown(true);
  }

  protected bufferedBytes(): number {
    return this.dataChannel ? this.dataChannel.bufferedAmount : 0;
  }

  protected write(packet: Uint8Array): boolean {
    const channel = this.dataChannel;
    if (channel === null || channel.readyState !== 'open') return false;
    try {
      channel.send(packet);
      return true;
    } catch {
      // Browsers throw when the channel closes under us or its buffer is full: the packet is dropped, as promised.
      return false;
    }
  }

  protected shutdown(): void {
    // Packets just sent (a Goodbye) are still in the data channel's buffer: closing the peer connection now would
    // discard them. Give SCTP a moment to send them, then close.
    // (bufferedAmount is not a reliable signal: libdatachannel, for one, queues inside SCTP and reports 0.)
    setTimeout(() => this.teardown(true), CLOSE_DRAIN_MS);
  }

  private remoteClosed(reason: CloseReason): void {
    if (!this.isOpen) return;
    this.finish(reason);
    this.teardown(false);
  }

  private teardown(tellServer: boolean): void {
    const peerConnection = this.peerConnection;
    this.peerConnection = null;
    this.dataChannel = null;
    try {
      void Promise.resolve(peerConnection?.close()).catch(() => {});
    } catch {
      // Closing an already-closed peer connection may throw; it is closed either way.
    }
    // What geckos.io's own close() does, minus its unhandled rejection when the server is already gone.
    let id: unknown;
    try {
      id = this.client.id;
    } catch {
      id = undefined;
    }
    // Given up before the channel opened: the channel has no id yet, the signalling answer has it (before signalling
    // answered nobody has one, and the server has nothing to close).
    if (typeof id !== 'string') id = this.client.connectionsManager.remotePeerConnection?.id;
    if (tellServer && typeof id === 'string' && id !== '') {
      fetch(`${this.signallingUrl}/.wrtc/v2/connections/${id}/close`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
      }).catch(() => {});
    }
  }
}

/** Where a connection attempt stood when it was given up, in words. */
function describeStage(peerConnection: PeerConnectionLike | undefined): string {
  if (!peerConnection) return 'no answer from the signalling server';
  const pc = peerConnection as PeerConnectionLike & { iceConnectionState?: string; iceGatheringState?: string };
  return `ICE ${pc.iceConnectionState ?? '?'}, gathering ${pc.iceGatheringState ?? '?'}, connection ${pc.connectionState}`;
}

function connectError(error: unknown, where: string): NetError {
  const status = (error as { status?: unknown } | null)?.status;
  if (status === 401 || status === 403) {
    return new NetError('Unauthorized', `geckos.io server at ${where} refused the connection (HTTP ${status})`, {
      fatal: true,
    });
  }
  if (status === 404) {
    // The signalling server has no such endpoint; a room host answers so for a reservation naming a room it does
    // not (or no longer) host.
    return new NetError('RoomUnknown', `geckos.io server at ${where} has no endpoint for this connection (HTTP 404)`, {
      fatal: true,
    });
  }
  const message = (error as { message?: unknown } | null)?.message ?? String(error);
  return new NetError('Timeout', `could not connect to the geckos.io server at ${where}: ${String(message)}`, {
    fix: 'check that the server is running and that url/port point at its signalling server',
  });
}

function connect(options: GeckosClientTransportOptions): Promise<Link> {
  const where = `${options.url}:${options.port}`;
  const timeoutMs = options.connectTimeoutMs ?? GECKOS_CONNECT_TIMEOUT_MS;
  return new Promise<Link>((resolve, reject) => {
    const client = geckosClient({
      url: options.url,
      port: options.port,
      label: options.label,
      authorization: options.authorization,
      iceServers: options.iceServers ?? [],
      iceTransportPolicy: options.iceTransportPolicy,
    }) as unknown as GeckosClientInternals;
    const manager = client.connectionsManager;
    const extra: Record<PropertyKey, unknown> = { ...options.rtcConfiguration };
    if (options.RTCPeerConnection) {
      installPeerConnectionDispatcher();
      extra[PEER_CONNECTION_KEY] = options.RTCPeerConnection;
    }
    manager.rtcConfiguration = { ...manager.rtcConfiguration, ...extra };
    const link = new GeckosLink(
      client,
      where,
      options.maxBufferedBytes ?? GECKOS_CLIENT_MAX_BUFFERED_BYTES,
      options.onError,
    );
    client.onRaw((data) => link.deliver(data));

    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      const stage = describeStage(manager.localPeerConnection);
      link.abandon();
      reject(
        new NetError('Timeout', `no geckos.io data channel to ${where} within ${timeoutMs} ms (${stage})`, {
          fix: 'UDP may be blocked between this client and the server; the server logs why (onConnectFailed)',
        }),
      );
    }, timeoutMs);

    void client.onConnect((error) => {
      if (settled) {
        if (!error) link.abandon(); // connected after the timeout: nobody wants it any more
        return;
      }
      if (error) {
        settled = true;
        clearTimeout(timer);
        link.abandon();
        reject(connectError(error, where));
        return;
      }
      const peerConnection = manager.localPeerConnection;
      const dataChannel = manager.dataChannel;
      if (!peerConnection || !dataChannel) {
        settled = true;
        clearTimeout(timer);
        link.abandon();
        reject(connectError('no data channel after signalling', where));
        return;
      }
      const ready = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        link.attach(peerConnection, dataChannel);
        resolve(link);
      };
      if (dataChannel.readyState === 'open') ready();
      else dataChannel.addEventListener('open', ready, { once: true });
    });
  });
}

/**
 * Creates a client transport to a geckos.io server (see `createGeckosServerTransport`). Each `connect()` opens a
 * fresh WebRTC connection and resolves once its data channel is open.
 * @example
 * // browser page served by the same HTTP server as the signalling:
 * const transport = createGeckosClientTransport({ url: location.origin.replace(/:\d+$/, ''), port: Number(location.port) });
 * // Node: import { RTCPeerConnection } from 'node-datachannel/polyfill';
 * const node = createGeckosClientTransport({ url: 'http://127.0.0.1', port: 9208, RTCPeerConnection });
 * const link = await transport.connect();
 */
export function createGeckosClientTransport(options: GeckosClientTransportOptions): ClientTransport {
  if (typeof options.url !== 'string' || !/^https?:\/\/[^/]+$/.test(options.url) || /:\d+$/.test(options.url)) {
    usageError(
      `bad url ${JSON.stringify(options.url)}`,
      "pass scheme and host without port or path, e.g. 'http://127.0.0.1'",
    );
  }
  if (!(Number.isInteger(options.port) && options.port > 0 && options.port <= 65535)) {
    usageError(`port must be an integer in 1..65535, got ${options.port}`, 'pass the signalling server port');
  }
  if (
    !options.RTCPeerConnection &&
    typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection !== 'function'
  ) {
    usageError(
      'no RTCPeerConnection in this environment',
      "in Node pass { RTCPeerConnection } from 'node-datachannel/polyfill'",
    );
  }
  if (options.connectTimeoutMs !== undefined && !(options.connectTimeoutMs > 0)) {
    usageError(`connectTimeoutMs must be > 0, got ${options.connectTimeoutMs}`, 'pass a positive number of ms');
  }
  return { connect: () => connect(options) };
}
