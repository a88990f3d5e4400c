import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { NetError } from '../../src/errors.ts';
import { createMemoryNetwork } from '../../src/transport/memory-transport.ts';
import type { LinkPairConditions } from '../../src/transport/memory-transport.ts';
import { MAX_PACKET_BYTES } from '../../src/transport/transport.ts';
import type { Link } from '../../src/transport/transport.ts';

const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);

function setup(conditions?: LinkPairConditions, seed = 1) {
  const clock = createManualClock();
  const net = createMemoryNetwork({ clock, seed });
  const serverLinks: Link[] = [];
  net.server.onconnection = (link) => serverLinks.push(link);
  const client = net.connect(conditions);
  const server = serverLinks[0];
  const toServer: number[][] = [];
  const toClient: number[][] = [];
  server.onpacket = (p) => toServer.push([...p]);
  client.onpacket = (p) => toClient.push([...p]);
  return { clock, net, client, server, toServer, toClient, serverLinks };
}

describe('memory network', () => {
  it('fires onconnection synchronously and delivers only inside pump()', () => {
    const { net, client, server, toServer, toClient, serverLinks } = setup();
    expect(serverLinks.length).toBe(1);
    expect(client.isOpen && server.isOpen).toBe(true);
    expect(client.mtuBytes).toBe(MAX_PACKET_BYTES);
    client.send(bytes(1, 2));
    server.send(bytes(3));
    expect(toServer).toEqual([]);
    expect(toClient).toEqual([]);
    net.pump();
    expect(toServer).toEqual([[1, 2]]);
    expect(toClient).toEqual([[3]]);
  });

  it('applies up and down conditions to their own direction', () => {
    const { clock, net, client, server, toServer, toClient } = setup({
      up: { latencyMs: 30 },
      down: { latencyMs: 10 },
    });
    client.send(bytes(1));
    server.send(bytes(2));
    clock.advance(10);
    net.pump();
    expect(toClient).toEqual([[2]]);
    expect(toServer).toEqual([]);
    clock.advance(20);
    net.pump();
    expect(toServer).toEqual([[1]]);
  });

  it('changes conditions of a link from either end', () => {
    const { clock, net, client, server, toServer, toClient } = setup();
    net.setConditions(server, { up: { loss: 1 } });
    client.send(bytes(1));
    server.send(bytes(2));
    clock.advance(1);
    net.pump();
    expect(toServer).toEqual([]);
    expect(toClient).toEqual([[2]]);
    expect(net.linkStats(client).up.dropped).toBe(1);
  });

  it('counts and drops packets above the MTU', () => {
    const { net, client, toServer } = setup();
    client.send(new Uint8Array(MAX_PACKET_BYTES + 1));
    client.send(new Uint8Array(MAX_PACKET_BYTES));
    net.pump();
    expect(toServer.length).toBe(1);
    expect(toServer[0].length).toBe(MAX_PACKET_BYTES);
    expect(net.oversizeDropped).toBe(1);
    expect(net.linkStats(client).oversizeDropped).toBe(1);
  });

  it('drops everything both ways while cut, in flight included, and resumes on restore', () => {
    const { clock, net, client, server, toServer, toClient } = setup({ up: { latencyMs: 20 } });
    client.send(bytes(1));
    net.cut(client);
    client.send(bytes(2));
    server.send(bytes(3));
    clock.advance(50);
    net.pump();
    expect(toServer).toEqual([]);
    expect(toClient).toEqual([]);
    expect(client.isOpen).toBe(true);
    net.restore(server);
    client.send(bytes(4));
    clock.advance(20);
    net.pump();
    expect(toServer).toEqual([[4]]);
    expect(net.linkStats(client).cutDropped).toBe(3);
  });

  it('closing one end closes both at once and fires onclose on both at the next pump', () => {
    const { net, client, server, toServer } = setup();
    const closes: string[] = [];
    client.onclose = (r) => closes.push(`client:${r}`);
    server.onclose = (r) => closes.push(`server:${r}`);
    client.send(bytes(1));
    server.close('bye');
    expect(client.isOpen).toBe(false);
    expect(server.isOpen).toBe(false);
    expect(closes).toEqual([]);
    client.send(bytes(2));
    net.pump();
    expect(closes).toEqual(['client:bye', 'server:bye']);
    expect(toServer).toEqual([]);
    net.pump();
    client.close();
    net.pump();
    expect(closes.length).toBe(2);
  });

  it('gives each link its own seeded randomness, the same for the same seed', () => {
    const trace = (seed: number): number[][] => {
      const clock = createManualClock();
      const net = createMemoryNetwork({ clock, seed });
      const out: number[][] = [];
      const links = [0, 1, 2].map((i) => {
        net.server.onconnection = (s) => (s.onpacket = (p) => out.push([i, p[0], clock.now()]));
        return net.connect({ up: { loss: 0.3, latencyMs: 5, jitterMs: 10, reorder: 0.2, duplicate: 0.1 } });
      });
      for (let t = 0; t < 400; t++) {
        for (const link of links) link.send(bytes(t & 0xff));
        clock.advance(1);
        net.pump();
      }
      return out;
    };
    const a = trace(42);
    expect(trace(42)).toEqual(a);
    expect(trace(43)).not.toEqual(a);
    // The three links do not share one random stream: what arrives, and when, differs.
    const arrivals = (i: number) => a.filter((r) => r[0] === i).map((r) => [r[1], r[2]]);
    expect(arrivals(0)).not.toEqual(arrivals(1));
    expect(arrivals(1)).not.toEqual(arrivals(2));
  });

  it('clientTransport().connect() resolves to a connected link', async () => {
    const clock = createManualClock();
    const net = createMemoryNetwork({ clock });
    let serverEnd: Link | null = null;
    net.server.onconnection = (l) => (serverEnd = l);
    const link = await net.clientTransport({ up: { latencyMs: 5 } }).connect();
    expect(serverEnd).not.toBeNull();
    const got: number[] = [];
    serverEnd!.onpacket = (p) => got.push(p[0]);
    link.send(bytes(9));
    clock.advance(5);
    net.pump();
    expect(got).toEqual([9]);
  });

  it('server.close() closes every link; later connects come back closed', () => {
    const { net, client } = setup();
    let reason = '';
    client.onclose = (r) => (reason = r);
    net.server.close();
    expect(client.isOpen).toBe(false);
    const late = net.connect();
    expect(late.isOpen).toBe(false);
    let lateReason = '';
    late.onclose = (r) => (lateReason = r);
    net.pump();
    expect(reason).toBe('server closed');
    expect(lateReason).toBe('server closed');
  });
});

describe('createMemoryNetwork options', () => {
  it('without a clock is a Usage error that says to pass one, not a TypeError on now', () => {
    const make = (o: unknown) => () => createMemoryNetwork(o as Parameters<typeof createMemoryNetwork>[0]);
    for (const bad of [{}, undefined, { clock: {} }]) {
      expect(make(bad)).toThrow(NetError);
      expect(make(bad)).toThrow(/needs a clock.*fix: pass \{ clock: createManualClock\(\) \}/);
    }
  });
});
