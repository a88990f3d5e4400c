// A strict TypeScript consumer of `ecsync/server` (Node only).
import type { IceServer } from 'ecsync';
import { createGeckosServerTransport, createWebSocketServerTransport, isGeckosServerLink } from 'ecsync/server';
import type { GeckosServerTransport, GeckosServerTransportOptions, WebSocketServerTransport } from 'ecsync/server';

const ice: IceServer[] = [{ urls: ['stun:127.0.0.1:3478'], username: 'user', credential: 'secret' }];
const geckosOptions: GeckosServerTransportOptions = { port: 0, iceServers: ice, host: '127.0.0.1' };
const geckos: Promise<GeckosServerTransport> = createGeckosServerTransport(geckosOptions);
const server: Promise<WebSocketServerTransport> = createWebSocketServerTransport({ port: 0, host: '127.0.0.1' });
void isGeckosServerLink;

export { geckos, server };
