// A strict TypeScript consumer of `ecsync` and `ecsync/geckos` (browser or Node): names public types, calls APIs.
import { addComponent, addEntity, createWorld } from 'bitecs';
import {
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  createWebSocketClientTransport,
  createServerAuthority,
  createVrPlugin,
  field,
  NetError,
  Networked,
  registerComponent,
} from 'ecsync';
import type {
  ClientTransport,
  ErrorCodeName,
  FieldSpec,
  IceServer,
  NetworkPlugin,
  PeerStats,
  ServerAuthorityOptions,
  WebSocketClientTransportOptions,
} from 'ecsync';
import type { GeckosClientTransportOptions } from 'ecsync/geckos';

const Position = { x: new Float32Array(16), y: new Float32Array(16) };
const spec: FieldSpec = field.quantized(-10, 10, 0.01);
const protocol = createProtocol();
registerComponent(protocol, Position, { name: 'Position', fields: { x: spec, y: spec } });
const clock = createManualClock();
const network = createMemoryNetwork({ clock });
const world = createWorld();
const net: NetworkPlugin = createNetworkPlugin(world, { role: 'server', protocol, transport: network.server, clock });
const eid = addEntity(world);
addComponent(world, eid, Networked);
const stats: PeerStats[] = net.stats();
const first: PeerStats | undefined = stats[0];
const authority: ServerAuthorityOptions = {};
createServerAuthority(world, authority);
void createVrPlugin;

const wsOptions: WebSocketClientTransportOptions = { url: 'ws://127.0.0.1:1/ecsync', connectTimeoutMs: 1000 };
const client: ClientTransport = createWebSocketClientTransport(wsOptions);
const ice: IceServer[] = [{ urls: 'stun:127.0.0.1:3478' }];
const geckos: GeckosClientTransportOptions = { url: 'http://127.0.0.1', port: 9208, iceServers: ice };
const code: ErrorCodeName = new NetError('Usage', 'example').code;

export { client, code, first, geckos, ice };
