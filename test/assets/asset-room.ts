/**
 * A room for the asset tests: the stepper's server with an asset layer, clients joining through a transport that
 * reconnects (so a cut link resumes), each with its own asset layer, and an async run loop that lets WebCrypto's
 * digests finish between frames. Roles come from the Hello's auth string ('viewer', 'admin', else participant).
 */
import { createWorld } from 'bitecs';
import {
  createClientAssets,
  createNetworkPlugin,
  createServerAssets,
  type ClientAssets,
  type ClientAssetsOptions,
  type ClientTransport,
  type Link,
  type LinkConditions,
  type ServerAssets,
  type ServerAssetsOptions,
} from '../../src/index.ts';
import { createRandom } from '../../src/random.ts';
import { defineFixture, Stepper, type Peer } from '../helpers/fixture.ts';

export interface AssetClient {
  peer: Peer;
  assets: ClientAssets;
  /** The links this client opened, newest last (for `network.cut`). */
  links: Link[];
}

export interface RoomOptions {
  seed?: number;
  bandwidthKbps?: number;
  server?: ServerAssetsOptions;
}

/** Bytes that do not deflate (a hash mismatch is then a data change, not an inflate error). */
export function noise(n: number, seed = 1): Uint8Array {
  const rnd = createRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rnd.int(256);
  return out;
}

/** Byte equality without vitest's element-wise diff (slow on megabytes). */
export function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(a, b) === 0;
}

export function assetRoom(opts: RoomOptions = {}) {
  const s = new Stepper({
    seed: opts.seed ?? 1,
    server: () => ({
      bandwidthKbps: opts.bandwidthKbps ?? 8000,
      resumeWindowMs: 30_000,
      authorize: (hello) => ({ role: hello.auth === 'viewer' || hello.auth === 'admin' ? hello.auth : 'participant' }),
    }),
  });
  const server: ServerAssets = createServerAssets(s.server.world, opts.server);

  /** A client; `wrap` may replace each link it opens (e.g. a tampering wrapper). */
  const join = (
    o: { conditions?: LinkConditions; role?: string; assets?: ClientAssetsOptions; wrap?: (l: Link) => Link } = {},
  ): AssetClient => {
    const fx = defineFixture();
    const world = createWorld();
    const errors: Error[] = [];
    const links: Link[] = [];
    const transport: ClientTransport = {
      connect: () => {
        const link = s.network.connect({ up: o.conditions, down: o.conditions });
        links.push(link);
        return Promise.resolve(o.wrap ? o.wrap(link) : link);
      },
    };
    const net = createNetworkPlugin(world, {
      role: 'client',
      protocol: fx.protocol,
      transport,
      auth: o.role ?? 'participant',
      clock: s.clock,
      sendRateHz: 60,
      reconnect: { seed: 3 },
      onError: (e) => errors.push(e),
    });
    const peer: Peer = { ...fx, world, net, errors };
    s.clients.push(peer);
    return { peer, assets: createClientAssets(world, { uploadKbps: 4000, ...o.assets }), links };
  };

  /** Steps frames, yielding to the event loop each frame (digests run off the main thread), until `done` or `max`. */
  const run = async (max: number, done: () => boolean = () => false): Promise<number> => {
    for (let i = 0; i < max; i++) {
      if (done()) return i;
      s.step();
      await new Promise((r) => setImmediate(r));
    }
    return max;
  };

  return { s, server, join, run };
}

/** Records what a client layer handed on and refused. */
export function watch(assets: ClientAssets) {
  const received: { hash: string; bytes: Uint8Array; cached: boolean }[] = [];
  const refused: { hash: string; code: string }[] = [];
  const uploaded: string[] = [];
  assets.events.on('received', (a) => received.push({ hash: a.manifest.hash, bytes: a.bytes, cached: a.cached }));
  assets.events.on('refused', (hash, e) => refused.push({ hash, code: e.code }));
  assets.events.on('uploaded', (m) => uploaded.push(m.hash));
  return { received, refused, uploaded };
}
