/** The tick window (issue 11, bug 13): how far ahead of its accepted ticks a peer may claim to be. */
import { describe, expect, it } from 'vitest';
import { MAX_PEER_TICK_RATE_HZ, TickWindow } from '../../src/replication/tick-window.ts';

describe('tick window', () => {
  it('the first tick sets the reference; the lead and elapsed time bound what follows', () => {
    const w = new TickWindow(100);
    expect(w.accept(5000, 0)).toBe(true);
    expect(w.accept(5100, 0)).toBe(true);
    expect(w.accept(5201, 0)).toBe(false);
    expect(w.accept(5200, 0)).toBe(true);
    // Older ticks are always fine (reordered or held messages).
    expect(w.accept(10, 0)).toBe(true);
    // One second later the bound moved by the plausible rate.
    expect(w.accept(5300 + MAX_PEER_TICK_RATE_HZ, 1000)).toBe(true);
    expect(w.accept(5300 + 2 * MAX_PEER_TICK_RATE_HZ + 101, 1000)).toBe(false);
    w.reset();
    expect(w.accept(2 ** 40, 1000)).toBe(true);
  });
});
