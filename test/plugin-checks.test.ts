/** Newcomer mistakes around createNetworkPlugin get a Usage NetError with a fix, not a TypeError or silence. */
import { addComponent, addEntity, createWorld } from 'bitecs';
import { describe, expect, it } from 'vitest';
import {
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  NetError,
  Networked,
  type NetworkPluginOptions,
} from '../src/index.ts';
import { Stepper } from './helpers/fixture.ts';

function usage(run: () => unknown): NetError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(NetError);
    const err = e as NetError;
    expect(err.code).toBe('Usage');
    expect(err.fix).toBeTruthy();
    return err;
  }
  throw new Error('expected a NetError');
}

describe('createNetworkPlugin option checks', () => {
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock });

  it('a plugin without protocol names the missing protocol', () => {
    const options = { role: 'server', transport: network.server, clock } as unknown as NetworkPluginOptions;
    const err = usage(() => createNetworkPlugin(createWorld(), options));
    expect(err.message).toMatch(/needs the shared protocol/);
    expect(err.fix).toMatch(/createProtocol/);
  });

  it('a plugin without role says which roles exist, not that it needs a link', () => {
    const options = { protocol: createProtocol(), link: network.connect(), clock } as unknown as NetworkPluginOptions;
    const err = usage(() => createNetworkPlugin(createWorld(), options));
    expect(err.message).toMatch(/role 'server' or 'client', got none/);
    expect(err.message).not.toMatch(/link/);
    const wrong = { ...options, role: 'host' } as unknown as NetworkPluginOptions;
    expect(usage(() => createNetworkPlugin(createWorld(), wrong)).message).toMatch(/got "host"/);
  });

  it('options that are not an object are refused', () => {
    usage(() => createNetworkPlugin(createWorld(), undefined as unknown as NetworkPluginOptions));
  });
});

describe('a client marking its own entity Networked', () => {
  it('throws a Usage error at the next receive, once, naming the entity', () => {
    const s = new Stepper();
    const c = s.addClient();
    s.run(10);
    const eid = addEntity(c.world);
    addComponent(c.world, eid, Networked); // returns normally: the world stays consistent
    const err = usage(() => c.net.receive(c.world));
    expect(err.message).toContain(`entity ${eid}`);
    expect(err.fix).toMatch(/server/);
    expect(() => s.run(5)).not.toThrow();
  });

  it('is caught by send too', () => {
    const s = new Stepper();
    const c = s.addClient();
    s.run(5);
    addComponent(c.world, addEntity(c.world), Networked);
    usage(() => c.net.send(c.world));
  });

  it('entities the server spawns on the client are not mistaken for it', () => {
    const s = new Stepper();
    const c = s.addClient();
    s.run(5);
    expect(c.errors).toEqual([]);
    for (let i = 0; i < 3; i++) addComponent(s.server.world, addEntity(s.server.world), Networked);
    expect(() => s.run(20)).not.toThrow();
  });
});
