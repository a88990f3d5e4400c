/** addVrPoses wiring: checks, the pose stream replaces the generic owner writes, tags, zero-latency owner render. */
import { createWorld, hasComponent } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { createPoseComponents } from '../../components/pose-components.ts';
import { getNetContext } from '../../src/context.ts';
import { createManualClock, createMemoryNetwork, createNetworkPlugin, createProtocol } from '../../src/index.ts';
import { registerPoseComponents } from '../../src/vr/pose-protocol.ts';
import { getVrContext } from '../../src/vr/vr-context.ts';
import { addVrPoses, vrStatsOf } from '../../src/vr/vr-plugin.ts';
import { VrStepper, type VrPeer } from '../../harness/vr-stepper.ts';

describe('addVrPoses', () => {
  it('refuses a protocol without pose components, other components, and a second call', () => {
    const clock = createManualClock();
    const network = createMemoryNetwork({ clock });
    const bare = createProtocol();
    const w1 = createWorld();
    createNetworkPlugin(w1, { role: 'server', protocol: bare, transport: network.server, clock });
    expect(() => addVrPoses(w1, { components: createPoseComponents(8) })).toThrow(/registerPoseComponents/);
    const protocol = createProtocol();
    const mine = createPoseComponents(8);
    registerPoseComponents(protocol, mine);
    expect(() => registerPoseComponents(protocol, createPoseComponents(8))).toThrow(/once/);
    const w2 = createWorld();
    createNetworkPlugin(w2, { role: 'client', protocol, link: network.connect(), clock });
    expect(() => addVrPoses(w2, { components: createPoseComponents(8) })).toThrow(/registered/);
    expect(() => addVrPoses(w2, { components: mine, redundantTicks: 9 })).toThrow(/redundantTicks/);
    expect(() => addVrPoses(w2, { components: mine, delay: { lagWindow: 1 } })).toThrow(/delay.lagWindow/);
    expect(() => addVrPoses(w2, { components: mine, delay: { jitterFactor: -1 } })).toThrow(/delay.jitterFactor/);
    addVrPoses(w2, { components: mine });
    expect(() => addVrPoses(w2, { components: mine })).toThrow(/once/);
  });

  it('streams owned poses instead of the generic owner writes, tags devices, renders the owner at once', () => {
    const s = new VrStepper({ seed: 51 });
    const owner = s.addClient({ latencyMs: 30 });
    const viewer = s.addClient({ latencyMs: 30 });
    s.run(30);
    const avatar = s.spawnAvatar(owner);
    s.run(30);
    const right = s.local(owner, avatar.right);
    const remote = s.local(viewer, avatar.right);
    // the generic Delta leaves the pose components to the stream
    const ctx = getNetContext(owner.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    const vr = getVrContext(owner.world);
    if (vr.role !== 'client') throw new Error('client expected');
    for (const c of [vr.poses.head, vr.poses.left, vr.poses.right])
      expect(ctx.replicator.ownerWriteExcluded[c.id]).toBe(1);
    expect(ctx.replicator.ownerWriteExcluded[vr.poses.grip.id]).toBe(0);
    let x = 0;
    const drive = (peer: VrPeer) => {
      if (peer !== owner) return;
      x += 0.01;
      owner.components.RightControllerPose.px[right] = x;
      owner.components.GripState.trigger[right] = 0.5;
    };
    for (let f = 0; f < 120; f++) {
      s.step(drive);
      // zero added latency: what the owner draws is this frame's input
      expect(owner.components.RenderPose.px[right]).toBeCloseTo(x, 6);
    }
    s.run(60);
    expect(hasComponent(owner.world, right, owner.components.Predicted)).toBe(true);
    expect(hasComponent(owner.world, right, owner.components.Interpolated)).toBe(false);
    expect(hasComponent(viewer.world, remote, viewer.components.Interpolated)).toBe(true);
    expect(hasComponent(viewer.world, remote, viewer.components.RenderPose)).toBe(true);
    // the server has the owner's pose, the viewer draws it; the grip went the generic way
    expect(s.server.components.RightControllerPose.px[avatar.right]).toBeCloseTo(x, 3);
    expect(viewer.components.RenderPose.px[remote]).toBeCloseTo(x, 3);
    expect(viewer.components.GripState.trigger[remote]).toBeCloseTo(0.5, 2);
    const ownerStats = vrStatsOf(owner.world);
    const serverStats = vrStatsOf(s.server.world);
    expect('posePackets' in ownerStats && ownerStats.posePackets).toBeGreaterThan(50);
    expect('acceptedTicks' in serverStats && serverStats.acceptedTicks).toBeGreaterThan(150);
    expect(s.server.errors).toEqual([]);
    expect(owner.errors).toEqual([]);
  });

  it('dispose removes the layer and gives the pose components back to the generic path', () => {
    const s = new VrStepper({ seed: 52 });
    const owner = s.addClient();
    s.run(10);
    const ctx = getNetContext(owner.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    const before = ctx.replicator.extensions.length;
    owner.vr.dispose();
    expect(ctx.replicator.extensions.length).toBe(before - 1);
    expect([...ctx.replicator.ownerWriteExcluded].every((v) => v === 0)).toBe(true);
    expect(() => getVrContext(owner.world)).toThrow(/addVrPoses/);
  });
});
