/** Free functions over a networked world: mistakes are Usage errors with a fix. */
import { describe, expect, it } from 'vitest';
import { NetError, setOwner, ownerOf } from '../src/index.ts';
import { spawn, Stepper } from './helpers/fixture.ts';

describe('setOwner', () => {
  it('to a client id that is not in the session is a Usage error; existing clients and 0 are accepted', () => {
    const s = new Stepper();
    const c = s.addClient();
    s.run(10);
    const eid = spawn(s.server, [s.server.Ints]);
    s.run(2);
    const id = s.server.net.stats()[0].clientId;
    expect(() => setOwner(s.server.world, eid, id + 41)).toThrow(NetError);
    expect(() => setOwner(s.server.world, eid, id + 41)).toThrow(/no client \d+ is in the session.*fix:/);
    expect(ownerOf(s.server.world, eid)).toBe(0);
    setOwner(s.server.world, eid, id);
    expect(ownerOf(s.server.world, eid)).toBe(id);
    setOwner(s.server.world, eid, 0);
    expect(ownerOf(s.server.world, eid)).toBe(0);
    expect(c.errors).toEqual([]);
  });
});
