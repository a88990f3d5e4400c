/**
 * Resumable clients for the catch-up tests: a client plugin that connects through a transport of a memory network
 * (so it reconnects and resumes after a cut), with `offline` to keep it away, and a stepping loop that lets the
 * reconnect's promises settle between frames.
 */
import { createWorld, type World } from 'bitecs';
import { connectionStateOf, createNetworkPlugin, type NetworkPlugin, type Protocol } from '../../src/index.ts';
import type { ManualClock } from '../../src/clock.ts';
import type { LinkConditions } from '../../src/transport/link-conditioner.ts';
import type { MemoryNetwork } from '../../src/transport/memory-transport.ts';
import type { ClientTransport, Link } from '../../src/transport/transport.ts';
import { flushMicrotasks } from '../session/session-harness.ts';

/** Heartbeats fast enough that a cut is noticed in 300 ms (tests and the bench measure the time away, not this). */
export const FAST_HEARTBEAT_MS = 100;

/** A resumable client: its world and plugin, the links it opened, and a switch that makes its connects fail. */
export interface ResumableClient<F> {
  fx: F;
  world: World;
  net: NetworkPlugin;
  errors: Error[];
  links: Link[];
  offline: { value: boolean };
}

/** Connects a client through `network` (each connect a new link with `conditions`). */
export function addResumableClient<F extends { protocol: Protocol }>(
  network: MemoryNetwork,
  clock: ManualClock,
  fx: F,
  conditions?: LinkConditions,
): ResumableClient<F> {
  const world = createWorld();
  const errors: Error[] = [];
  const links: Link[] = [];
  const offline = { value: false };
  const transport: ClientTransport = {
    connect: () => {
      if (offline.value) return Promise.reject(new Error('network unreachable'));
      const link = network.connect({ up: conditions, down: conditions });
      links.push(link);
      return Promise.resolve(link);
    },
  };
  const net = createNetworkPlugin(world, {
    role: 'client',
    protocol: fx.protocol,
    transport,
    clock,
    sendRateHz: 60,
    heartbeatMs: FAST_HEARTBEAT_MS,
    reconnect: { seed: 5, initialDelayMs: 50, maxDelayMs: 200 },
    onError: (e) => errors.push(e),
  });
  return { fx, world, net, errors, links, offline };
}

/** Steps `frames` frames of `step`, letting promises (reconnects) settle after each. */
export async function runFrames(step: () => void, frames: number): Promise<void> {
  for (let i = 0; i < frames; i++) {
    step();
    await flushMicrotasks();
  }
}

/**
 * Cuts the client's current link, keeps it away for `awayFrames` frames (its connects fail), then lets it
 * reconnect; resolves once it is connected again (or after `maxFrames`).
 */
export async function cutAndResume(
  network: MemoryNetwork,
  client: ResumableClient<unknown>,
  step: () => void,
  awayFrames: number,
  maxFrames = 1200,
): Promise<void> {
  client.offline.value = true;
  network.cut(client.links[client.links.length - 1]);
  const before = client.links.length;
  await runFrames(step, awayFrames);
  client.offline.value = false;
  for (let i = 0; i < maxFrames; i++) {
    await runFrames(step, 1);
    if (client.links.length > before && connectionStateOf(client.world) === 'connected') return;
  }
  throw new Error('client did not resume');
}
