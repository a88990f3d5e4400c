/**
 * Hostile pose traffic: thousands of seeded random and mutated InputPoses and Correction bodies never throw, and
 * never move a device the sender does not own. Each test counts the bodies that reached the pose decoders.
 */
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { getNetContext } from '../../src/context.ts';
import { connectionStateOf, networkIdOf, Tag } from '../../src/index.ts';
import type { ServerExtension, ClientExtension } from '../../src/replication/extension.ts';
import { createRandom } from '../../src/random.ts';
import { CorrectionFrame, encodeCorrection } from '../../src/vr/correction-codec.ts';
import { MAX_STREAM_TICKS, PoseStreamFrame } from '../../src/vr/pose-stream-codec.ts';
import { getVrContext } from '../../src/vr/vr-context.ts';
import { tap, type Tap } from '../helpers/decoder-tap.ts';

/** Counts, per tag, the messages each extension's `message` hook was given. */
function tapExtensions(extensions: readonly (ServerExtension | ClientExtension)[], tagArg: number): Tap[] {
  return extensions.filter((x) => x.message).map((x) => tap(x, 'message', (args) => args[tagArg] as number));
}
import { VrStepper } from '../../harness/vr-stepper.ts';

/** The server's poses of `eids` (the owner keeps streaming its own still devices, so stamps move; poses must not). */
function snapshotPoses(s: VrStepper, eids: number[]): number[] {
  const c = s.server.components;
  return eids.flatMap((e) =>
    [c.HeadPose, c.LeftControllerPose, c.RightControllerPose].flatMap((p) => [
      p.px[e],
      p.py[e],
      p.pz[e],
      p.qx[e],
      p.qy[e],
      p.qz[e],
      p.qw[e],
    ]),
  );
}

describe('pose fuzz', () => {
  it('random and forged InputPoses from another client never move devices it does not own', () => {
    // Limits off for the test: the session's decode-error limit would cut every attacker off after a few dozen.
    const s = new VrStepper({ seed: 41, rateLimits: false });
    const owner = s.addClient();
    let attacker = s.addClient();
    let kicked = 0;
    s.run(30);
    const avatar = s.spawnAvatar(owner);
    s.run(20);
    const victims = [avatar.head, avatar.left, avatar.right];
    const ids = victims.map((e) => networkIdOf(s.server.world, e));
    const before = snapshotPoses(s, victims);
    const serverNet = getNetContext(s.server.world);
    if (serverNet.role !== 'server') throw new Error('server expected');
    const reached = tapExtensions(serverNet.replicator.extensions, 1);
    let delivered = 0;
    const vr = getVrContext(attacker.world);
    if (vr.role !== 'client') throw new Error('client expected');
    const codec = vr.codec;
    const rng = createRandom(77);
    const w = new BitWriter();
    const f = new PoseStreamFrame();
    for (let n = 0; n < 3000; n++) {
      let bytes: Uint8Array;
      if (n % 3 === 0) {
        // random body behind the InputPoses tag
        bytes = new Uint8Array(2 + rng.int(120));
        for (let i = 2; i < bytes.length; i++) bytes[i] = rng.int(256);
        bytes[0] = Tag.InputPoses & 0xff;
        bytes[1] = Tag.InputPoses >> 8;
      } else {
        // a well-formed stream naming the victim's devices (and random ids), possibly mutated
        f.newestTick = rng.int(1e6);
        f.tickCount = 1 + rng.int(4);
        f.newestTimeUnits = rng.int(2 ** 24);
        for (let i = 0; i < f.tickCount; i++) f.ageUnits[i] = (f.tickCount - 1 - i) * 133;
        f.horizonMs = 100;
        f.deviceCount = 1 + rng.int(3);
        const pool = [...ids, 1 + rng.int(500)].sort((a, b) => a - b);
        const chosen = [...new Set(pool)].slice(0, f.deviceCount);
        f.deviceCount = chosen.length;
        for (let d = 0; d < f.deviceCount; d++) {
          f.netId[d] = chosen[d];
          f.active[d] = rng.int(2);
          f.hasVelocity[d] = rng.int(2);
          f.skip[d] = 0;
          for (let i = 0; i < f.tickCount; i++) {
            const p = (d * MAX_STREAM_TICKS + i) * 3;
            for (let k = 0; k < 3; k++) f.pos[p + k] = rng.int(codec.positionSteps + 1);
            f.rot[d * MAX_STREAM_TICKS + i] = codec.packRotation(rng.gaussian(), rng.gaussian(), rng.gaussian(), 1);
          }
          for (let k = 0; k < 6; k++) f.vel[d * 6 + k] = rng.int(100);
        }
        codec.encode(w, f);
        bytes = w.toBytes();
        if (n % 3 === 2) bytes[2 + rng.int(bytes.length - 2)] ^= 1 << rng.int(8);
      }
      // A client that keeps sending garbage is disconnected by the session: the next attacker takes over.
      let ctx = getNetContext(attacker.world);
      if (ctx.role !== 'client') throw new Error('client expected');
      if (!ctx.session.connection || connectionStateOf(attacker.world) !== 'connected') {
        kicked++;
        attacker = s.addClient();
        s.run(30);
        ctx = getNetContext(attacker.world);
        if (ctx.role !== 'client') throw new Error('client expected');
      }
      const conn = ctx.session.connection!;
      if (!conn.sendUnreliable(bytes)) {
        conn.flush();
        conn.sendUnreliable(bytes);
      }
      delivered++;
      if (n % 10 === 0) expect(() => s.step()).not.toThrow();
    }
    s.run(30);
    // The pose decoder saw the bodies (a kicked attacker's last ones are lost with its link).
    expect(delivered).toBe(3000);
    expect(Math.max(...reached.map((t) => t.get(Tag.InputPoses)))).toBeGreaterThanOrEqual(3000);
    expect(snapshotPoses(s, victims)).toEqual(before);
    expect(kicked).toBeLessThan(3000 / 10);
    const stats = getVrContext(s.server.world);
    if (stats.role !== 'server') throw new Error('server expected');
    expect(stats.stats.rejectedDevices + stats.stats.decodeErrors).toBeGreaterThan(500);
    expect(s.server.errors.some((e) => (e as { code?: string }).code === 'Forbidden')).toBe(true);
  });

  it('random and mutated Correction bodies never throw on a client and leave its render poses finite', () => {
    const s = new VrStepper({ seed: 42 });
    const owner = s.addClient();
    s.run(30);
    const avatar = s.spawnAvatar(owner);
    s.run(30, (peer) => {
      const e = s.local(peer, avatar.right);
      if (e) peer.components.RightControllerPose.px[e] = 0.2;
    });
    const serverCtx = getNetContext(s.server.world);
    if (serverCtx.role !== 'server') throw new Error('server expected');
    const conn = [...serverCtx.session.peers.values()][0].connection;
    const ownerVr = getVrContext(owner.world);
    if (ownerVr.role !== 'client') throw new Error('client expected');
    const codec = ownerVr.codec;
    const rng = createRandom(78);
    const w = new BitWriter();
    const c = new CorrectionFrame();
    const rightId = networkIdOf(s.server.world, avatar.right);
    const ownerNet = getNetContext(owner.world);
    if (ownerNet.role !== 'client') throw new Error('client expected');
    const reached = tapExtensions(ownerNet.replicator.extensions, 0);
    for (let n = 0; n < 3000; n++) {
      let bytes: Uint8Array;
      if (n % 2 === 0) {
        bytes = new Uint8Array(2 + rng.int(60));
        for (let i = 2; i < bytes.length; i++) bytes[i] = rng.int(256);
        bytes[0] = Tag.Correction & 0xff;
        bytes[1] = Tag.Correction >> 8;
      } else {
        c.count = 1 + rng.int(3);
        for (let j = 0; j < c.count; j++) {
          c.netId[j] = rng.next() < 0.5 ? rightId : 1 + rng.int(100);
          c.tick[j] = rng.int(200);
          for (let k = 0; k < 3; k++) c.pos[j * 3 + k] = rng.int(65000);
          c.rot[j] = rng.int(2 ** 32);
        }
        encodeCorrection(w, codec, c);
        bytes = w.toBytes();
        if (rng.next() < 0.5) bytes[2 + rng.int(bytes.length - 2)] ^= 1 << rng.int(8);
      }
      if (!conn.sendUnreliable(bytes)) {
        conn.flush();
        conn.sendUnreliable(bytes);
      }
      if (n % 10 === 0) expect(() => s.step()).not.toThrow();
    }
    s.run(30);
    expect(Math.max(...reached.map((t) => t.get(Tag.Correction)))).toBeGreaterThanOrEqual(3000);
    const rp = owner.components.RenderPose;
    for (const e of [avatar.head, avatar.left, avatar.right].map((x) => s.local(owner, x))) {
      for (const k of ['px', 'py', 'pz', 'qx', 'qy', 'qz', 'qw'] as const) expect(Number.isFinite(rp[k][e])).toBe(true);
    }
    expect(ownerVr.stats.decodeErrors).toBeGreaterThan(100);
  });
});
