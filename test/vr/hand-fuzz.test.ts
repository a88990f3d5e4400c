/**
 * Hostile hand traffic: random and forged HandInput from a client never change a hand it does not own, and random or
 * mutated HandFrames never throw on a viewer or leave its drawn hands non-finite; every bound (hands per message,
 * receive state) is hit and counted.
 */
import { describe, expect, it } from 'vitest';
import { HandDriver, HandRoom } from '../../harness/hand-room.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { getNetContext } from '../../src/context.ts';
import {
  connectionStateOf,
  HAND_JOINTS_LENGTH,
  type HandClientStats,
  type HandServerStats,
  networkIdOf,
  Tag,
} from '../../src/index.ts';
import { createRandom, type Random } from '../../src/random.ts';
import { maxHandCode } from '../../src/vr/hand-codec.ts';
import { HAND_PARAM_COUNT } from '../../src/vr/hand-skeleton.ts';
import { HandStreamCodec, HandStreamFrame, MAX_INPUT_HANDS } from '../../src/vr/hand-stream-codec.ts';
import { HandReceiveState } from '../../src/vr/hand-stream-state.ts';
import { findHandContext } from '../../src/vr/hand-context.ts';

const codec = new HandStreamCodec();

/** A HandInput / HandFrames naming `ids`, whole bodies with random codes (and sometimes a flipped bit). */
function forged(rng: Random, tag: number, ids: number[]): Uint8Array {
  const f = new HandStreamFrame();
  f.frame = 1 + rng.int(1000);
  f.timeUnits = rng.int(2 ** 24);
  const chosen = [...new Set(ids)].sort((a, b) => a - b);
  f.count = chosen.length;
  for (let h = 0; h < f.count; h++) {
    f.netId[h] = chosen[h];
    f.tracked[h] = rng.int(4) === 0 ? 0 : 1;
    f.ageMs[h] = rng.int(200);
    f.back[h] = 0;
    for (let i = 0; i < HAND_PARAM_COUNT; i++) f.codes[h * HAND_PARAM_COUNT + i] = rng.int(maxHandCode(i) + 1);
  }
  const w = new BitWriter();
  codec.encode(w, tag, f, []);
  const bytes = w.toBytes();
  if (rng.int(3) === 0) bytes[2 + rng.int(bytes.length - 2)] ^= 1 << rng.int(8);
  return bytes;
}

function randomBody(rng: Random, tag: number): Uint8Array {
  const bytes = new Uint8Array(2 + rng.int(80));
  for (let i = 2; i < bytes.length; i++) bytes[i] = rng.int(256);
  bytes[0] = tag & 0xff;
  bytes[1] = tag >> 8;
  return bytes;
}

describe('hand fuzz', () => {
  it('random and forged HandInput never change a hand the sender does not own', () => {
    const room = new HandRoom({ seed: 51, rateLimits: false });
    const owner = room.addClient();
    let attacker = room.addClient();
    const s = room.stepper;
    s.run(30);
    const avatar = s.spawnAvatar(owner.peer);
    const driver = new HandDriver(3);
    const drive = () =>
      room.step((peer) => {
        if (peer !== owner.peer) return;
        const local = {
          head: s.local(peer, avatar.head),
          left: s.local(peer, avatar.left),
          right: s.local(peer, avatar.right),
        };
        // the owner holds its hands still: any change on the server would be the attacker's
        driver.drive(peer, local, 5000, () => true);
      });
    for (let i = 0; i < 60; i++) drive();
    const server = findHandContext(room.server.peer.world);
    if (server?.role !== 'server') throw new Error('server expected');
    const victims = [avatar.left, avatar.right];
    const codesBefore = victims.map((e) => [...server.hands.get(e)!.codes]);
    const ids = victims.map((e) => networkIdOf(s.server.world, e));
    const rng = createRandom(7);
    let kicked = 0;
    for (let n = 0; n < 2000; n++) {
      let bytes: Uint8Array;
      if (n % 3 === 0) bytes = randomBody(rng, Tag.HandInput);
      else if (n % 3 === 1) bytes = forged(rng, Tag.HandInput, [...ids, 1 + rng.int(300)].slice(0, 1 + rng.int(3)));
      // more hands than a client may stream: refused whole
      else
        bytes = forged(
          rng,
          Tag.HandInput,
          Array.from({ length: MAX_INPUT_HANDS + 1 }, (_, i) => 400 + i),
        );
      let ctx = getNetContext(attacker.peer.world);
      if (ctx.role !== 'client' || !ctx.session.connection || connectionStateOf(attacker.peer.world) !== 'connected') {
        kicked++;
        attacker = room.addClient();
        for (let i = 0; i < 30; i++) drive();
        ctx = getNetContext(attacker.peer.world);
      }
      if (ctx.role !== 'client') throw new Error('client expected');
      const conn = ctx.session.connection!;
      if (!conn.sendUnreliable(bytes)) {
        conn.flush();
        conn.sendUnreliable(bytes);
      }
      if (n % 10 === 0) expect(() => drive()).not.toThrow();
    }
    for (let i = 0; i < 30; i++) drive();
    expect(victims.map((e) => [...server.hands.get(e)!.codes])).toEqual(codesBefore);
    const st = room.server.layer.stats() as HandServerStats;
    expect(st.rejectedHands).toBeGreaterThan(300);
    expect(st.decodeErrors).toBeGreaterThan(600);
    expect(kicked).toBeLessThan(200);
    // the honest owner's stream kept flowing
    expect(st.acceptedHands).toBeGreaterThan(100);
  });

  it('random and mutated HandFrames never throw on a viewer and leave drawn hands finite', () => {
    const room = new HandRoom({ seed: 52 });
    const owner = room.addClient();
    const viewer = room.addClient();
    const s = room.stepper;
    s.run(30);
    const avatar = s.spawnAvatar(owner.peer);
    const driver = new HandDriver(4);
    const drive = () =>
      room.step((peer, now) => {
        if (peer !== owner.peer) return;
        const local = {
          head: s.local(peer, avatar.head),
          left: s.local(peer, avatar.left),
          right: s.local(peer, avatar.right),
        };
        driver.drive(peer, local, now, () => true);
      });
    for (let i = 0; i < 90; i++) drive();
    const serverCtx = getNetContext(s.server.world);
    if (serverCtx.role !== 'server') throw new Error('server expected');
    const peers = [...serverCtx.session.peers.values()];
    const conn = peers[peers.length - 1].connection;
    const ids = [avatar.left, avatar.right].map((e) => networkIdOf(s.server.world, e));
    const rng = createRandom(8);
    for (let n = 0; n < 2000; n++) {
      const bytes =
        n % 2 === 0
          ? randomBody(rng, Tag.HandFrames)
          : forged(rng, Tag.HandFrames, [...ids, 1 + rng.int(300)].slice(0, 1 + rng.int(3)));
      if (!conn.sendUnreliable(bytes)) {
        conn.flush();
        conn.sendUnreliable(bytes);
      }
      if (n % 10 === 0) expect(() => drive()).not.toThrow();
    }
    // samples the flood placed near the owner's timeline age out of the buffer within its 2 s bound
    for (let i = 0; i < 250; i++) drive();
    const st = viewer.layer.stats() as HandClientStats;
    expect(st.unplacedSamples).toBeGreaterThan(300);
    expect(st.decodeErrors).toBeGreaterThan(500);
    const J = viewer.hands.RenderHand.joints;
    for (const e of [avatar.left, avatar.right].map((x) => s.local(viewer.peer, x))) {
      expect(viewer.hands.RenderHand.tracked[e]).toBe(1);
      for (let k = 0; k < HAND_JOINTS_LENGTH; k++) expect(Number.isFinite(J[e * HAND_JOINTS_LENGTH + k])).toBe(true);
    }
  });

  it('the receive state holds at most its bound and counts what it evicts', () => {
    const state = new HandReceiveState(128);
    const codes = new Int32Array(HAND_PARAM_COUNT);
    for (let id = 1; id <= 200; id++) state.store(id, 1, codes, 0);
    expect(state.size).toBe(128);
    expect(state.evicted).toBe(72);
    // the least recently stored went first
    expect(state.baseline(1, 1)).toBeNull();
    expect(state.baseline(200, 1)).not.toBeNull();
  });
});
