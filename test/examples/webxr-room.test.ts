/**
 * The WebXR room's Node-side pieces without a browser: the grab messages (the server decodes them from the network,
 * so they are fuzzed), the seats, and the self-signed certificate.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/index.ts';
import {
  decodeGrabMessage,
  encodeGrabRelease,
  encodeGrabRequest,
  RoomTag,
  SEAT_RADIUS_M,
  seatOf,
} from '../../examples/webxr-room/protocol.ts';
import { createSelfSignedCertificate, loadOrCreateCertificate } from '../../examples/webxr-room/self-signed-cert.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('grab messages', () => {
  it('round-trip a request and a release with its pose', () => {
    expect(decodeGrabMessage(RoomTag.GrabRequest, encodeGrabRequest(4242))).toEqual({
      netId: 4242,
      release: false,
      pose: [],
    });
    const pose = [0.25, 1.5, -0.75, 0, Math.SQRT1_2, 0, Math.SQRT1_2];
    const release = decodeGrabMessage(RoomTag.GrabRelease, encodeGrabRelease(7, pose));
    expect(release?.netId).toBe(7);
    expect(release?.release).toBe(true);
    release?.pose.forEach((v, i) => expect(v).toBeCloseTo(pose[i], 6));
  });

  it('refuses wrong lengths and poses outside the room, and never throws on random or mutated bytes', () => {
    expect(decodeGrabMessage(RoomTag.GrabRequest, new Uint8Array(5))).toBeNull();
    expect(decodeGrabMessage(RoomTag.GrabRelease, encodeGrabRequest(1))).toBeNull();
    expect(decodeGrabMessage(RoomTag.GrabRelease, encodeGrabRelease(1, [99, 0, 0, 0, 0, 0, 1]))).toBeNull();
    expect(decodeGrabMessage(RoomTag.GrabRelease, encodeGrabRelease(1, [NaN, 0, 0, 0, 0, 0, 1]))).toBeNull();
    const random = createRandom(2024);
    const valid = [encodeGrabRequest(3), encodeGrabRelease(3, [0, 1, 0, 0, 0, 0, 1])];
    let decoded = 0;
    for (let i = 0; i < 5000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(random.int(48));
        for (let j = 0; j < bytes.length; j++) bytes[j] = random.int(256);
      } else {
        bytes = valid[random.int(2)].slice();
        for (let flips = 1 + random.int(4); flips > 0; flips--) bytes[random.int(bytes.length)] = random.int(256);
      }
      const tag = random.next() < 0.5 ? RoomTag.GrabRequest : RoomTag.GrabRelease;
      const message = decodeGrabMessage(tag, bytes);
      if (message) {
        decoded++;
        expect(message.pose.every((v) => Number.isFinite(v) && Math.abs(v) <= 20)).toBe(true);
      }
    }
    expect(decoded).toBeGreaterThan(0); // mutated requests still parse: only the length is checked there
  });
});

describe('seats', () => {
  it('puts the first eight users at distinct places on the circle, facing the centre', () => {
    const seats = [1, 2, 3, 4, 5, 6, 7, 8].map(seatOf);
    for (const s of seats) {
      expect(Math.hypot(s.x, s.z)).toBeCloseTo(SEAT_RADIUS_M, 6);
      // Facing the centre: the forward vector (-sin yaw, -cos yaw) points from the seat to the origin.
      expect(-Math.sin(s.yaw) * -s.x + -Math.cos(s.yaw) * -s.z).toBeCloseTo(SEAT_RADIUS_M, 6);
    }
    const keys = new Set(seats.map((s) => `${s.x.toFixed(3)},${s.z.toFixed(3)}`));
    expect(keys.size).toBe(8);
    expect(seats[1].x).toBeCloseTo(-seats[0].x, 6); // the first two users face each other
    expect(seats[1].z).toBeCloseTo(-seats[0].z, 6);
  });
});

describe('self-signed certificate', () => {
  it('names every host, is valid for a year and signs with its own key', () => {
    const now = new Date('2030-05-01T12:00:00Z');
    const pair = createSelfSignedCertificate(['localhost', '127.0.0.1', '192.168.1.20'], now);
    const x509 = new X509Certificate(pair.cert);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('192.168.1.20')).toBe('192.168.1.20');
    expect(x509.checkIP('192.168.1.21')).toBeUndefined();
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.ca).toBe(false);
    const days = (Date.parse(x509.validTo) - now.getTime()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  });

  it('is reused while it covers the hosts, and made again when a host is new or the file is broken', () => {
    const dir = join(scratch, 'cert');
    const first = loadOrCreateCertificate(dir, ['localhost', '10.0.0.5']);
    expect(first.created).toBe(true);
    const again = loadOrCreateCertificate(dir, ['localhost']);
    expect(again.created).toBe(false);
    expect(again.cert).toBe(first.cert);
    const moved = loadOrCreateCertificate(dir, ['localhost', '10.0.0.6']);
    expect(moved.created).toBe(true);
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
    expect(loadOrCreateCertificate(dir, ['localhost']).created).toBe(true);
  });
});
