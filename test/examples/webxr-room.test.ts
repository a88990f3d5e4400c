/**
 * The WebXR room's Node-side pieces without a browser: the room protocol (the VR pose layer attaches to it), the
 * seats, and the self-signed certificate. Grab messages are the authority layer's, fuzzed in its own tests.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorld } from 'bitecs';
import {
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createPoseComponents,
  createVrPlugin,
} from '../../src/index.ts';
import { defineRoomProtocol, SEAT_RADIUS_M, seatOf } from '../../examples/webxr-room/protocol.ts';
import { createSelfSignedCertificate, loadOrCreateCertificate } from '../../examples/webxr-room/self-signed-cert.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('room protocol', () => {
  it("carries the VR pose layer's components: the VR plugin attaches with them and refuses any others", async () => {
    const room = defineRoomProtocol();
    const world = createWorld();
    const network = createMemoryNetwork({ clock: createManualClock() });
    const net = createNetworkPlugin(world, { role: 'server', protocol: room.protocol, transport: network.server });
    try {
      expect(() => createVrPlugin(world, { components: createPoseComponents(16) })).toThrow(/registered/);
      const vr = createVrPlugin(world, { components: room.poses });
      expect(vr.role).toBe('server');
      vr.dispose();
    } finally {
      await net.dispose();
    }
  });

  it('gives objects a pose the authority layer can move (position and rotation arrays)', () => {
    const { Pose, objectPose } = defineRoomProtocol();
    expect(objectPose.component).toBe(Pose);
    for (const key of [...objectPose.position, ...(objectPose.rotation ?? [])]) {
      expect(Pose[key as keyof typeof Pose]).toBeInstanceOf(Float32Array);
    }
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
  it('names every host, is valid for a year and signs with its own key', async () => {
    const now = new Date('2030-05-01T12:00:00Z');
    const pair = await createSelfSignedCertificate(['localhost', '127.0.0.1', '192.168.1.20'], now);
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

  it('is reused while it covers the hosts, and made again when a host is new or the file is broken', async () => {
    const dir = join(scratch, 'cert');
    const first = await loadOrCreateCertificate(dir, ['localhost', '10.0.0.5']);
    expect(first.created).toBe(true);
    const again = await loadOrCreateCertificate(dir, ['localhost']);
    expect(again.created).toBe(false);
    expect(again.cert).toBe(first.cert);
    const moved = await loadOrCreateCertificate(dir, ['localhost', '10.0.0.6']);
    expect(moved.created).toBe(true);
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
    expect((await loadOrCreateCertificate(dir, ['localhost'])).created).toBe(true);
  });
});
