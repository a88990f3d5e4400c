/**
 * Connection attempts of the geckos.io server transport over real WebRTC on loopback: the per-attempt bind address
 * that lets a server on every interface (0.0.0.0) connect clients on a machine whose only network is loopback, a
 * reason for every failed attempt, the attempt deadline and the bound on attempts in flight. Inside the loopback-only
 * network namespace only (see harness/netns.ts).
 */
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { afterAll, describe, expect, it } from 'vitest';
import { createGeckosClientTransport } from '../../src/transport/geckos-client-transport.ts';
import type { GeckosClientTransportOptions } from '../../src/transport/geckos-client-transport.ts';
import type { GeckosConnectFailure } from '../../src/transport/geckos-attempts.ts';
import { createGeckosServerTransport } from '../../src/transport/geckos-server-transport.ts';
import type { GeckosServerTransportOptions } from '../../src/transport/geckos-server-transport.ts';
import type { Link } from '../../src/transport/transport.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';
import { exchangePackets, waitFor } from './real-link-kit.ts';

const HOST = '127.0.0.1';
/** Short deadlines keep the failure cases quick; connecting on loopback takes ~0.3 s. */
const SERVER_TIMEOUT_MS = 600;
const CLIENT_TIMEOUT_MS = 1500;

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startServer(options: Partial<GeckosServerTransportOptions> = {}) {
  requireLoopbackOnlyNetwork();
  const failures: GeckosConnectFailure[] = [];
  const server = await createGeckosServerTransport({
    port: 0,
    host: HOST,
    onConnectFailed: (failure) => failures.push(failure),
    ...options,
  });
  cleanups.push(() => server.close());
  const accepted: Link[] = [];
  server.onconnection = (link) => accepted.push(link);
  return { server, failures, accepted };
}

function client(port: number, extra: Partial<GeckosClientTransportOptions> = {}) {
  return createGeckosClientTransport({
    url: `http://${HOST}`,
    port,
    RTCPeerConnection,
    rtcConfiguration: { bindAddress: HOST },
    connectTimeoutMs: CLIENT_TIMEOUT_MS,
    ...extra,
  });
}

/** A signalling request as a client would send it, with nothing after it (no answer, no candidates). */
function requestOnly(port: number, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://${HOST}:${port}/.wrtc/v2/connections`, { method: 'POST', headers });
}

function withoutCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:'))
    .join('\r\n');
}

describe('geckos attempts (WebRTC on loopback)', () => {
  it('refuses a bad connectTimeoutMs or maxPendingAttempts with a Usage NetError', async () => {
    for (const bad of [
      { connectTimeoutMs: 0 },
      { connectTimeoutMs: -5 },
      { maxPendingAttempts: 0 },
      { maxPendingAttempts: 1.5 },
    ]) {
      await expect(createGeckosServerTransport({ port: 0, host: HOST, ...bad })).rejects.toMatchObject({
        name: 'NetError',
        code: 'Usage',
      });
    }
  });

  it('says the server gathered no candidate when ICE is not bound to loopback inside a loopback-only network', async () => {
    // First in this file: once libdatachannel's process-wide ICE UDP mux holds a loopback socket (an attempt bound to
    // loopback), later attempts on every interface gather on it too.
    // A relayed request is not from this machine: ICE gathers on every interface, and there is none but loopback.
    const { server, failures } = await startServer({ host: '0.0.0.0', connectTimeoutMs: SERVER_TIMEOUT_MS });
    const response = await requestOnly(server.port, { 'X-Forwarded-For': '203.0.113.7' });
    expect(response.status).toBe(200);
    await waitFor(() => failures.length === 1, 5000, 'the failure report');
    expect(failures[0].boundTo).toBe('every interface');
    expect(failures[0].localCandidates).toBe(0);
    expect(failures[0].reason).toMatch(/gathered no ICE candidate .*set iceBindAddress/);
  });

  it('a server listening on every interface (0.0.0.0) connects a client on this machine over loopback', async () => {
    const { server, failures, accepted } = await startServer({ host: '0.0.0.0' });
    // A client that gathers no candidate of its own here (like a browser that hides loopback): only the server's
    // loopback candidate can make the pair.
    const link = await client(server.port, { rtcConfiguration: {} }).connect();
    cleanups.push(() => link.close());
    await waitFor(() => accepted.length === 1, 3000, 'the server to accept the link');
    await exchangePackets([[link, accepted[0]]], 20, 21);
    expect(failures).toEqual([]);
    expect(server.attempts).toMatchObject({ pending: 0, failed: 0 });
  });

  it('reports a client that never answers, closes its attempt at the deadline, and counts it', async () => {
    const { server, failures } = await startServer({ connectTimeoutMs: SERVER_TIMEOUT_MS });
    const response = await requestOnly(server.port);
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    expect(server.attempts.pending).toBe(1);
    await waitFor(() => failures.length === 1, 5000, 'the failure report');
    expect(failures[0]).toMatchObject({ id, remoteAddress: HOST, boundTo: HOST });
    expect(failures[0].reason).toMatch(/no data channel within 600 ms: the client never sent its answer/);
    expect(server.attempts).toMatchObject({ pending: 0, failed: 1 });
  });

  it('names ICE when the client answers but no candidate pair works (candidates withheld both ways)', async () => {
    const { server, failures } = await startServer({ connectTimeoutMs: SERVER_TIMEOUT_MS });
    const offer = (await (await requestOnly(server.port)).json()) as { id: string; localDescription: { sdp: string } };
    // A peer that answers but whose candidates never reach the server and that never learns the server's, as when
    // UDP is blocked between them.
    const peer = new RTCPeerConnection({ bindAddress: HOST } as RTCConfiguration);
    cleanups.push(() => peer.close());
    await peer.setRemoteDescription({ type: 'offer', sdp: withoutCandidates(offer.localDescription.sdp) });
    const answer = await peer.createAnswer();
    await peer.setLocalDescription(answer);
    const posted = await fetch(`http://${HOST}:${server.port}/.wrtc/v2/connections/${offer.id}/remote-description`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'answer', sdp: withoutCandidates(answer.sdp ?? '') }),
    });
    expect(posted.status).toBe(200);
    await waitFor(() => failures.length === 1, 5000, 'the failure report');
    expect(failures[0].id).toBe(offer.id);
    expect(failures[0].reason).toMatch(/no data channel within 600 ms: ICE found no working candidate pair/);
    expect(server.attempts.pending).toBe(0);
  });

  it('answers 503 beyond maxPendingAttempts, reports and counts it, and accepts again once attempts end', async () => {
    const { server, failures } = await startServer({ maxPendingAttempts: 2, connectTimeoutMs: SERVER_TIMEOUT_MS });
    const first = await Promise.all([requestOnly(server.port), requestOnly(server.port)]);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    const refused = await requestOnly(server.port);
    expect(refused.status).toBe(503);
    expect(server.attempts).toMatchObject({ pending: 2, refusedBusy: 1 });
    expect(failures.at(-1)?.reason).toMatch(/maxPendingAttempts/);
    await waitFor(() => server.attempts.pending === 0, 5000, 'the pending attempts to time out');
    expect(server.attempts.failed).toBe(3);
    const link = await client(server.port).connect();
    cleanups.push(() => link.close());
    expect(link.isOpen).toBe(true);
  });
});
