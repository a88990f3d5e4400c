/**
 * Attack: steering the server into an exception. A crafted message that makes some handler throw used to escape
 * `net.receive()` into the game loop (e.g. command state above 8 MiB made `enqueue` throw `Oversize` out of
 * `ServerAuthority.joined`). Now every peer message, join, leave, ack and extension send runs inside a
 * containment boundary: the exception is counted, reported as `InternalError`, the message is dropped, and a
 * client that triggers it `maxHandlerErrors` times is disconnected. The receive and send systems are the last
 * boundary.
 */
import { describe, expect, it } from 'vitest';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { getNetContext } from '../../src/context.ts';
import { ErrorCode } from '../../src/errors.ts';
import { addClientExtension, addServerExtension } from '../../src/world-api.ts';
import { DEFAULT_CAPACITY } from '../../src/session/session-options.ts';
import { codes, expectConverged, honestRoom } from './honest-room.ts';
import { RawClient } from './raw-peer-helpers.ts';

const BOOM = 9000;
const PING_APP = 9001;

describe('attack: a message that makes a handler throw', () => {
  it('contains it per message, reports InternalError, disconnects a repeat offender; honest clients go on', () => {
    const room = honestRoom(2);
    const { s } = room;
    let handled = 0;
    addServerExtension(s.server.world, {
      message(_peer, tag) {
        if (tag !== BOOM) return false;
        handled++;
        throw new RangeError('crafted input hit a bug');
      },
    });
    const raw = new RawClient(s.network.connect(), s.clock, s.server.protocol.schemaHash);
    for (let f = 0; f < 10; f++) {
      s.step(room.game);
      raw.step();
    }
    expect(raw.welcomed).toBe(true);
    // One crafted message: contained, reported, the attacker is still connected.
    raw.send(BOOM, {});
    for (let f = 0; f < 5; f++) {
      expect(() => s.step(room.game)).not.toThrow();
      raw.step();
    }
    expect(handled).toBe(1);
    expect(codes(s.server).filter((c) => c === 'InternalError')).toHaveLength(1);
    expect(s.server.net.sessionStats()!.handlerErrors).toBe(1);
    expect(s.server.net.stats()).toHaveLength(3);
    // Repeats: disconnected with InternalError at maxHandlerErrors.
    for (let i = 0; i < 5; i++) raw.send(BOOM, {});
    for (let f = 0; f < 10; f++) {
      expect(() => s.step(room.game)).not.toThrow();
      raw.step();
    }
    expect(handled).toBe(DEFAULT_CAPACITY.maxHandlerErrors);
    expect(raw.fatalCode()).toBe(ErrorCode.InternalError);
    expect(s.server.net.stats()).toHaveLength(2);
    expect(s.server.net.containedErrors()).toBe(0); // the per-message boundary caught everything
    expectConverged(room);
  });

  it('contains a throwing extension send to one client: the others still receive every tick', () => {
    const room = honestRoom(2);
    const { s } = room;
    const victim = room.honest[0].net.stats()[0].clientId;
    let sent = 0;
    addServerExtension(s.server.world, {
      send(peer, connection) {
        if (peer.clientId === victim) throw new Error('bug in an extension send');
        connection.sendUnreliable(encodeControl(PING_APP, { n: sent++ }));
      },
    });
    let heard = 0;
    addClientExtension(room.honest[1].world, {
      message: (tag) => (tag === PING_APP ? (heard++, true) : false),
    });
    for (let f = 0; f < 30; f++) expect(() => s.step(room.game)).not.toThrow();
    expect(heard).toBeGreaterThan(20);
    expect(codes(s.server)).toContain('InternalError');
    // The faulty client was disconnected after maxHandlerErrors; the other one is in sync.
    expect(s.server.net.stats().map((p) => p.clientId)).not.toContain(victim);
    expect(s.server.net.stats()).toHaveLength(1);
    room.honest.shift();
    expectConverged(room);
  });

  it('contains a throw on the client side too: its receive never throws on a server message', () => {
    const room = honestRoom(1);
    const { s } = room;
    addServerExtension(s.server.world, {
      send: (_peer, connection) => void connection.sendUnreliable(encodeControl(PING_APP, {})),
    });
    addClientExtension(room.honest[0].world, {
      message: (tag) => {
        if (tag === PING_APP) throw new Error('client handler bug');
        return false;
      },
    });
    for (let f = 0; f < 10; f++) expect(() => s.step(room.game)).not.toThrow();
    expect(codes(room.honest[0])).toContain('InternalError');
    expect(room.honest[0].net.containedErrors()).toBe(0);
    // The session's per-message boundary counted each throw it caught.
    const ctx = getNetContext(room.honest[0].world);
    expect(ctx.role === 'client' && ctx.session.containedErrors).toBeGreaterThan(0);
    expectConverged(room);
  });
});
