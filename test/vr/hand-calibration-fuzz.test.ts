/**
 * Hostile hand calibrations: the codec never throws on random bytes and refuses every implausible skeleton; the
 * store holds at most its bound and counts the rest; over the network, forged and random HandCalibration from a
 * client never change the skeleton of a hand it does not own, and random ones sent to a viewer never throw or leave
 * its drawn hands non-finite.
 */
import { describe, expect, it } from 'vitest';
import { HandDriver, HandRoom } from '../../harness/hand-room.ts';
import { IWER_HAND_POSES, iwerHandJoints } from '../../harness/iwer-hands.ts';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { getNetContext } from '../../src/context.ts';
import { HAND_JOINTS_LENGTH, type HandClientStats, type HandServerStats, networkIdOf, Tag } from '../../src/index.ts';
import { createRandom, type Random } from '../../src/random.ts';
import {
  CALIBRATION_VALUES,
  decodeHandCalibration,
  dequantizeHandShape,
  encodeHandCalibration,
  HandCalibrationFrame,
  MAX_CALIBRATION_HANDS,
  quantizeHandShape,
} from '../../src/vr/hand-calibration-codec.ts';
import { CalibrationVerdict, HandCalibrationStore } from '../../src/vr/hand-calibration-store.ts';
import { HandCalibrator } from '../../src/vr/hand-calibration.ts';
import { findHandContext } from '../../src/vr/hand-context.ts';
import { HandShape } from '../../src/vr/hand-shape.ts';
import { JOINT_POSE_LENGTH } from '../../src/vr/hand-skeleton.ts';

/** The calibration codes of IWER's recorded right hand (a real, plausible hand). */
function realCodes(): Int16Array {
  const c = new HandCalibrator();
  const j = iwerHandJoints(IWER_HAND_POSES.relaxed, false);
  for (let i = 0; i < 10; i++) c.add(j, JOINT_POSE_LENGTH, 0, false);
  const codes = new Int16Array(CALIBRATION_VALUES);
  expect(c.estimate(codes)).toBe(true);
  return codes;
}

function message(ids: number[], codes: (h: number) => ArrayLike<number>): Uint8Array {
  const f = new HandCalibrationFrame();
  f.count = ids.length;
  ids.forEach((id, h) => {
    f.netId[h] = id;
    f.codes.set(codes(h), h * CALIBRATION_VALUES);
  });
  const w = new BitWriter();
  encodeHandCalibration(w, f);
  return w.toBytes();
}

function randomBody(rng: Random): Uint8Array {
  const bytes = new Uint8Array(2 + rng.int(120));
  for (let i = 2; i < bytes.length; i++) bytes[i] = rng.int(256);
  bytes[0] = Tag.HandCalibration & 0xff;
  bytes[1] = Tag.HandCalibration >> 8;
  return bytes;
}

function randomCodes(rng: Random): Int16Array {
  const c = realCodes();
  // one to three values anywhere in their byte range
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const i = rng.int(CALIBRATION_VALUES);
    c[i] = i < 19 ? rng.int(256) : rng.int(256) - 128;
  }
  return c;
}

describe('hand calibration fuzz', () => {
  it('round-trips a real hand and refuses implausible ones value by value', () => {
    const codes = realCodes();
    const bytes = message([7], () => codes);
    expect(bytes.length).toBe(2 + 1 + 1 + CALIBRATION_VALUES);
    const r = new BitReader();
    r.reset(bytes, 2);
    const f = new HandCalibrationFrame();
    expect(decodeHandCalibration(r, f, 4)).toBe(true);
    expect([...f.codes.subarray(0, CALIBRATION_VALUES)]).toEqual([...codes]);
    const shape = new HandShape();
    expect(dequantizeHandShape(codes, shape)).toBe(true);
    const again = new Int16Array(CALIBRATION_VALUES);
    quantizeHandShape(shape, again);
    expect([...again]).toEqual([...codes]);
    // a bone twice the reference's, a metacarpal 5 cm off, a metacarpal turned 1 rad: refused
    for (const [i, v] of [
      [5, 255],
      [0, 1],
      [19, 127],
      [19 + 15, 100],
    ] as const) {
      const bad = new Int16Array(codes);
      bad[i] = v;
      expect(dequantizeHandShape(bad, shape), `value ${i} = ${v}`).toBe(false);
    }
  });

  it('random bytes never throw; malformed messages are refused', () => {
    const rng = createRandom(11);
    const r = new BitReader();
    const f = new HandCalibrationFrame();
    const shape = new HandShape();
    let ok = 0;
    let refused = 0;
    for (let n = 0; n < 5000; n++) {
      const bytes = n % 2 === 0 ? randomBody(rng) : message([1 + rng.int(50)], () => randomCodes(rng));
      if (n % 3 === 0) bytes[2 + rng.int(bytes.length - 2)] ^= 1 << rng.int(8);
      r.reset(bytes, 2);
      expect(() => decodeHandCalibration(r, f, MAX_CALIBRATION_HANDS)).not.toThrow();
      r.reset(bytes, 2);
      if (!decodeHandCalibration(r, f, MAX_CALIBRATION_HANDS)) refused++;
      else
        for (let h = 0; h < f.count; h++)
          if (dequantizeHandShape(f.codes.subarray(h * CALIBRATION_VALUES), shape)) {
            ok++;
            for (const v of shape.bone) expect(Number.isFinite(v)).toBe(true);
          }
    }
    expect(refused).toBeGreaterThan(2000);
    expect(ok).toBeGreaterThan(100);
    // more hands than the receiver allows: refused whole
    r.reset(
      message([1, 2, 3, 4, 5], () => realCodes()),
      2,
    );
    expect(decodeHandCalibration(r, f, 4)).toBe(false);
  });

  it('the store holds at most its bound and an implausible hand changes nothing', () => {
    const store = new HandCalibrationStore(4);
    const codes = realCodes();
    for (let id = 1; id <= 4; id++) expect(store.apply(id, 1, codes, 0)).toBe(CalibrationVerdict.ok);
    expect(store.apply(5, 1, codes, 0)).toBe(CalibrationVerdict.full);
    expect(store.hands.size).toBe(4);
    const before = new Float64Array(store.shapeOf(1)!.bone);
    const bad = new Int16Array(codes);
    bad[3] = 250;
    expect(store.apply(1, 1, bad, 0)).toBe(CalibrationVerdict.invalid);
    expect([...store.shapeOf(1)!.bone]).toEqual([...before]);
    store.remove(2);
    expect(store.apply(5, 1, codes, 0)).toBe(CalibrationVerdict.ok);
  });

  it("a client's forged and random calibrations never change a hand it does not own; a viewer never throws", () => {
    const room = new HandRoom({ seed: 53, rateLimits: false });
    const owner = room.addClient();
    const attacker = room.addClient();
    const s = room.stepper;
    s.run(30);
    const avatar = s.spawnAvatar(owner.peer);
    const driver = new HandDriver(5);
    const drive = () =>
      room.step((peer) => {
        if (peer !== owner.peer) return;
        const local = {
          head: s.local(peer, avatar.head),
          left: s.local(peer, avatar.left),
          right: s.local(peer, avatar.right),
        };
        // the owner holds its hands still: its calibration settles, any change would be the attacker's
        driver.drive(peer, local, 5000, () => true);
      });
    for (let i = 0; i < 120; i++) drive();
    const server = findHandContext(room.server.peer.world);
    if (server?.role !== 'server') throw new Error('server expected');
    const ids = [avatar.left, avatar.right].map((e) => networkIdOf(s.server.world, e));
    for (const id of ids) expect(server.shapes.shapeOf(id)).toBeDefined();
    const before = ids.map((id) => [...server.shapes.hands.get(id)!.codes]);
    const rng = createRandom(9);
    const ctx = getNetContext(attacker.peer.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    for (let n = 0; n < 300; n++) {
      const bytes =
        n % 2 === 0 ? randomBody(rng) : message([ids[rng.int(2)]], () => (rng.int(2) ? realCodes() : randomCodes(rng)));
      ctx.session.connection!.sendReliable(bytes);
      if (n % 5 === 0) expect(() => drive()).not.toThrow();
    }
    for (let i = 0; i < 60; i++) drive();
    expect(ids.map((id) => [...server.shapes.hands.get(id)!.codes])).toEqual(before);
    const st = room.server.layer.stats() as HandServerStats;
    expect(st.calibrationsRefused).toBeGreaterThan(200);
    // the viewer (the attacker's own world) got the owner's real calibrations only
    const down = attacker.layer.stats() as HandClientStats;
    expect(down.calibrationsReceived).toBeGreaterThanOrEqual(2);
    expect(down.calibrationsRefused).toBe(0);

    // the server's connection to the viewer carries random calibrations: never a throw, hands stay finite
    const serverCtx = getNetContext(s.server.world);
    if (serverCtx.role !== 'server') throw new Error('server expected');
    const peers = [...serverCtx.session.peers.values()];
    const conn = peers[peers.length - 1].connection;
    for (let n = 0; n < 300; n++) {
      conn.sendReliable(n % 2 === 0 ? randomBody(rng) : message([ids[rng.int(2)]], () => randomCodes(rng)));
      if (n % 5 === 0) expect(() => drive()).not.toThrow();
    }
    for (let i = 0; i < 60; i++) drive();
    expect((attacker.layer.stats() as HandClientStats).calibrationsRefused).toBeGreaterThan(100);
    const J = attacker.hands.RenderHand.joints;
    for (const e of [avatar.left, avatar.right].map((x) => s.local(attacker.peer, x))) {
      expect(attacker.hands.RenderHand.tracked[e]).toBe(1);
      for (let k = 0; k < HAND_JOINTS_LENGTH; k++) expect(Number.isFinite(J[e * HAND_JOINTS_LENGTH + k])).toBe(true);
    }
  });
});
