/** Optional peers are loaded when a transport is created: a missing one is a Usage NetError naming the package. */
import { describe, expect, it } from 'vitest';
import { NetError } from '../../src/errors.ts';
import { loadPeer } from '../../src/transport/load-peer.ts';

/** A package name nothing installs. */
const MISSING = 'ecsync-test-peer-that-is-not-installed';

describe('loadPeer', () => {
  it('returns the module when the peer is installed', async () => {
    const ws = await loadPeer('ws', 'test', () => import('ws'));
    expect(typeof ws.WebSocketServer).toBe('function');
  });

  it('turns a missing peer into a Usage NetError whose fix names the package', async () => {
    const error = await loadPeer(MISSING, 'createSomethingTransport', () => import(/* @vite-ignore */ MISSING)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NetError);
    expect(error).toMatchObject({ code: 'Usage', fix: `npm install ${MISSING}` });
    expect((error as NetError).message).toContain('createSomethingTransport needs the optional peer dependency');
  });

  it('passes on other failures unchanged, e.g. a package the peer itself cannot find', async () => {
    const error = await loadPeer('ws', 'test', () => import(/* @vite-ignore */ MISSING)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(NetError);
    expect(error).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });
});
