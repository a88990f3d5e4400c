/**
 * Attack: a flood of geckos.io signalling requests that never complete (each one makes the server build a native
 * peer connection and a UDP socket). The server must answer 503 beyond `maxPendingAttempts`, count and report every
 * refused and abandoned attempt, keep the attempts in flight under the bound, never throw, free every attempt at its
 * deadline, and keep accepting an honest client. Real WebRTC on loopback, inside the loopback-only namespace.
 */
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { afterAll, describe, expect, it } from 'vitest';
import { createGeckosClientTransport } from '../../src/transport/geckos-client-transport.ts';
import type { GeckosConnectFailure } from '../../src/transport/geckos-attempts.ts';
import { createGeckosServerTransport } from '../../src/transport/geckos-server-transport.ts';
import type { GeckosServerTransport } from '../../src/transport/geckos-server-transport.ts';
import type { Link } from '../../src/transport/transport.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';
import { exchangePackets, waitFor } from '../transport/real-link-kit.ts';

const HOST = '127.0.0.1';
/** The bound under test, small so the flood passes it many times over. */
const MAX_PENDING = 8;
/** Requests in the flood: bounded, in a few batches, done in about a second. */
const FLOOD_REQUESTS = 60;
const FLOOD_BATCH = 12;
/** Longer than the flood takes, so the bound (not the deadline) is what refuses it. */
const SERVER_TIMEOUT_MS = 3000;

let server: GeckosServerTransport | null = null;
const opened: Link[] = [];
afterAll(async () => {
  for (const link of opened) link.close('done');
  await server?.close();
});

describe('attack: signalling flood (geckos.io attempts that never complete)', () => {
  it('answers 503 past the bound, frees every attempt at its deadline, and an honest client still connects', async () => {
    requireLoopbackOnlyNetwork();
    const failures: GeckosConnectFailure[] = [];
    const accepted: Link[] = [];
    server = await createGeckosServerTransport({
      port: 0,
      host: HOST,
      maxPendingAttempts: MAX_PENDING,
      connectTimeoutMs: SERVER_TIMEOUT_MS,
      onConnectFailed: (failure) => failures.push(failure),
    });
    server.onconnection = (link) => accepted.push(link);
    const url = `http://${HOST}:${server.port}/.wrtc/v2/connections`;

    const statuses: number[] = [];
    let mostPending = 0;
    for (let sent = 0; sent < FLOOD_REQUESTS; sent += FLOOD_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: FLOOD_BATCH }, () =>
          fetch(url, { method: 'POST' }).then((r) => {
            mostPending = Math.max(mostPending, server!.attempts.pending);
            return r.status;
          }),
        ),
      );
      statuses.push(...batch);
    }
    const ok = statuses.filter((s) => s === 200).length;
    const busy = statuses.filter((s) => s === 503).length;
    expect(ok + busy).toBe(FLOOD_REQUESTS); // nothing else: no 500, no thrown error
    expect(ok).toBeGreaterThanOrEqual(MAX_PENDING);
    expect(busy).toBeGreaterThan(0);
    expect(mostPending).toBeLessThanOrEqual(MAX_PENDING); // the bounded structure never grows past its bound
    expect(server.attempts.refusedBusy).toBe(busy);

    // Every admitted attempt ends at its deadline, reported; nothing is left pending.
    await waitFor(() => server!.attempts.pending === 0, 10_000, 'the flooded attempts to be freed');
    expect(server.attempts.failed).toBe(FLOOD_REQUESTS);
    expect(failures).toHaveLength(FLOOD_REQUESTS);
    expect(failures.filter((f) => /never sent its answer/.test(f.reason))).toHaveLength(ok);
    expect(failures.filter((f) => /maxPendingAttempts/.test(f.reason))).toHaveLength(busy);

    // An honest client connects and exchanges packets afterwards.
    const link = await createGeckosClientTransport({
      url: `http://${HOST}`,
      port: server.port,
      RTCPeerConnection,
      rtcConfiguration: { bindAddress: HOST },
      connectTimeoutMs: 5000,
    }).connect();
    opened.push(link);
    await waitFor(() => accepted.length === 1, 3000, 'the honest link');
    await exchangePackets([[link, accepted[0]]], 20, 31);
    expect(server.attempts.pending).toBe(0);
  }, 30_000);
});
