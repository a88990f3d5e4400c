/**
 * The WebSocket client without a `WebSocket` option: the platform's on Node >= 22, `ws` loaded at `connect()` on
 * Node 20 (where there is no global WebSocket). Real TCP on 127.0.0.1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createWebSocketClientTransport } from '../../src/transport/websocket-client-transport.ts';
import { createWebSocketServerTransport } from '../../src/transport/websocket-server-transport.ts';
import type { Link } from '../../src/transport/transport.ts';
import { exchangePackets, waitFor } from './real-link-kit.ts';

const cleanups: Array<() => unknown> = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('createWebSocketClientTransport without a WebSocket option', () => {
  it('connects and carries packets both ways with whatever WebSocket the runtime has', async () => {
    const server = await createWebSocketServerTransport({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const accepted: Link[] = [];
    server.onconnection = (link) => accepted.push(link);
    const hasGlobal = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function';
    const major = Number(process.versions.node.split('.')[0]);
    // Node 20 has none (the case where `ws` is loaded); Node 22 and later have one.
    expect(hasGlobal).toBe(major >= 22);

    const client = await createWebSocketClientTransport({ url: `ws://127.0.0.1:${server.port}/ecsync` }).connect();
    cleanups.push(() => client.close());
    await waitFor(() => accepted.length === 1, 3000, 'the server to accept the link');
    await exchangePackets([[client, accepted[0] as Link]], 20, 7);
  });
});
