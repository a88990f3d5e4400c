/**
 * Connecting a fresh world to a seat's room over WebSocket or geckos.io (with the 'auto' fallback), and the types
 * a room client is described by. Reservation failures become ReservationExpired or ReservationInvalid.
 */
import { NetError, usageError } from '../errors.ts';
import { createNetworkPlugin } from '../plugin.ts';
import type { ClientPluginOptions, NetworkPlugin } from '../plugin-options.ts';
import type { Protocol } from '../register.ts';
import type { ClientTransport, Link } from '../transport/transport.ts';
import { createWebSocketClientTransport } from '../transport/websocket-client-transport.ts';
import type { WebSocketConstructor } from '../transport/websocket-client-transport.ts';
import { connectionErrorOf } from '../world-api.ts';
import type { RoomSeat } from './room-seat.ts';

/** The transport kind a room client is connected over. */
export type RoomTransportKind = 'websocket' | 'geckos';

/**
 * Makes the geckos.io client transport to one process's signalling origin (`url`) that presents `token` (the seat
 * reservation, which names the room) as its authorization: `geckosSeatConnector({...})` of `ecsync/geckos`.
 */
export type GeckosSeatConnector = (endpoint: {
  /** The process's geckos.io signalling origin, `http(s)://host[:port]`. */
  url: string;
  /** The seat reservation. */
  token: string;
}) => ClientTransport;

/** How a client plugin is made for a seat: everything of `ClientPluginOptions` but role, link, transport and auth. */
export type RoomClientOptions<W extends object> = Omit<
  ClientPluginOptions,
  'role' | 'link' | 'transport' | 'auth' | 'protocol'
> & {
  /** A fresh world and its protocol for each connection (a move starts over from the new process's state). */
  create: () => {
    /** The fresh bitecs world. */
    world: W;
    /** The protocol its components are registered in (the same on every peer). */
    protocol: Protocol;
  };
  /** WebSocket constructor (default: the global one, or `ws` under Node). */
  WebSocket?: WebSocketConstructor;
  /**
   * 'websocket' (default); 'geckos': WebRTC data channels, rejecting with `GeckosUnavailable` when the room's
   * process serves no geckos.io endpoint; 'auto': geckos.io when the process serves it, else (or when its data
   * channel does not open) WebSocket. A moved client keeps the kind it is connected over.
   */
  transport?: 'websocket' | 'geckos' | 'auto';
  /** Makes the geckos.io transports ('geckos' and 'auto' need it): `geckosSeatConnector()` of `ecsync/geckos`. */
  geckos?: GeckosSeatConnector;
  /** How long connecting may take (default 10 s). */
  connectTimeoutMs?: number;
  /** Called after the room moved, with the client now connected to the new process. */
  onMove?: (client: RoomClient<W>) => void;
};

/** A client in a room; `world` and `net` change when the room moves to another process. */
export interface RoomClient<W extends object> {
  /** The client's world now (a fresh one after each move). */
  readonly world: W;
  /** The client's network plugin now (a fresh one after each move). */
  readonly net: NetworkPlugin;
  /** The seat the client holds now. */
  readonly seat: RoomSeat;
  /** The transport kind the client is connected over now. */
  readonly transport: RoomTransportKind;
  /** How many times the room moved under this client. */
  readonly moves: number;
  /** Disposes the current network plugin (closes its connection) and stops following moves. */
  dispose(): Promise<void>;
}

/** Default time to open the socket and finish the handshake. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** While connecting, the plugin is stepped this often (the application takes over once connected). */
const CONNECT_STEP_MS = 10;

/** Where a seat (or a Move) says the room is, and the reservation to present there. */
export type SeatAddress = Pick<RoomSeat, 'url' | 'token' | 'expiresAtMs' | 'geckosUrl'>;

/** A world connected to its room: the world, its plugin and the transport kind. */
export interface SeatConnection<W extends object> {
  /** The connected world. */
  world: W;
  /** Its client network plugin, welcomed. */
  net: NetworkPlugin;
  /** The transport kind it is connected over. */
  transport: RoomTransportKind;
}

/** One connection over one transport kind; `opened` says whether a link ever opened (for the 'auto' fallback). */
async function connectOver<W extends object>(
  seat: SeatAddress,
  kind: RoomTransportKind,
  options: RoomClientOptions<W>,
): Promise<{ ok: true; connected: SeatConnection<W> } | { ok: false; error: NetError; opened: boolean }> {
  const { create, WebSocket, connectTimeoutMs, onMove: _onMove, transport: _kind, geckos, ...pluginOptions } = options;
  const { world, protocol } = create();
  const inner =
    kind === 'geckos' && geckos && seat.geckosUrl !== undefined
      ? geckos({ url: seat.geckosUrl, token: seat.token })
      : createWebSocketClientTransport({ url: seat.url, WebSocket, connectTimeoutMs });
  let opened = false;
  let connectFailure: unknown;
  const transport: ClientTransport = {
    connect: () =>
      inner.connect().then(
        (link: Link) => {
          opened = true;
          return link;
        },
        (e: unknown) => {
          connectFailure = e;
          throw e;
        },
      ),
  };
  let settled = false;
  let resolveDone: ((error: NetError | null) => void) | undefined;
  const done = new Promise<NetError | null>((resolve) => (resolveDone = resolve));
  const settle = (error: NetError | null) => {
    if (settled) return;
    settled = true;
    resolveDone?.(error);
  };
  const net = createNetworkPlugin(world, {
    ...pluginOptions,
    role: 'client',
    protocol,
    transport,
    auth: seat.token,
    onStateChange: (state, previous) => {
      pluginOptions.onStateChange?.(state, previous);
      if (settled) return;
      if (state === 'connected') settle(null);
      if (state === 'error' || state === 'closed')
        settle(connectionErrorOf(world) ?? new NetError('Timeout', 'the room closed the connection'));
    },
  });
  const step = setInterval(() => {
    net.receive(world);
    net.send(world);
  }, CONNECT_STEP_MS);
  const timer = setTimeout(
    () => settle(new NetError('Timeout', 'the room did not welcome us in time')),
    connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  );
  const error = await done;
  clearInterval(step);
  clearTimeout(timer);
  if (!error) return { ok: true, connected: { world, net, transport: kind } };
  await net.dispose();
  // A transport that refused at connect (geckos.io refuses a bad reservation at signalling) says so itself.
  const cause = connectFailure instanceof NetError && connectFailure.code === 'Unauthorized' ? connectFailure : error;
  if (cause.code === 'Unauthorized') {
    const expired = Date.now() >= seat.expiresAtMs;
    return {
      ok: false,
      opened,
      error: new NetError(
        expired ? 'ReservationExpired' : 'ReservationInvalid',
        expired ? 'the seat reservation expired before it was used' : 'the room refused the seat reservation',
      ),
    };
  }
  return { ok: false, opened, error: !opened && connectFailure instanceof NetError ? connectFailure : error };
}

/** Throws a usage error when `options.transport` is unknown or needs a geckos.io connector that is missing. */
export function checkTransport(options: RoomClientOptions<object>): void {
  const kind = options.transport ?? 'websocket';
  if (kind !== 'websocket' && kind !== 'geckos' && kind !== 'auto')
    usageError(`transport ${JSON.stringify(kind)} is not known`, "pass 'websocket', 'geckos' or 'auto'");
  if (kind !== 'websocket' && typeof options.geckos !== 'function')
    usageError(
      `transport '${kind}' needs a geckos.io connector`,
      "pass geckos: geckosSeatConnector({ ... }) from 'ecsync/geckos' (in Node with node-datachannel's RTCPeerConnection)",
    );
}

/**
 * Connects a fresh world to a seat's room over the transport `options.transport` asks for; resolves once welcomed.
 * `prefer` (for a moved client) overrides 'auto' with the kind it was connected over.
 */
export async function connectToSeat<W extends object>(
  seat: SeatAddress,
  options: RoomClientOptions<W>,
  prefer?: RoomTransportKind,
): Promise<SeatConnection<W>> {
  checkTransport(options as RoomClientOptions<object>);
  const asked = options.transport ?? 'websocket';
  const kind = asked === 'auto' && prefer !== undefined ? prefer : asked;
  if (kind === 'geckos' && seat.geckosUrl === undefined)
    throw new NetError('GeckosUnavailable', "the room's process serves no geckos.io endpoint", {
      fix: "join with transport 'auto' or 'websocket', or give the room host a geckos option",
    });
  if (kind === 'websocket' || seat.geckosUrl === undefined) {
    const ws = await connectOver(seat, 'websocket', options);
    if (ws.ok) return ws.connected;
    throw ws.error;
  }
  const rtc = await connectOver(seat, 'geckos', options);
  if (rtc.ok) return rtc.connected;
  // 'auto': no data channel opened, so the Hello never went and the reservation is unused: try the WebSocket.
  if (asked === 'auto' && !rtc.opened && Date.now() < seat.expiresAtMs) {
    const ws = await connectOver(seat, 'websocket', options);
    if (ws.ok) return ws.connected;
    throw ws.error;
  }
  throw rtc.error;
}
