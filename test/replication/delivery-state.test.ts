/** Delivery state: what a loss re-marks (issue 11, bug 11: never fields of a component removed since). */
import { describe, expect, it } from 'vitest';
import { DeliveryState } from '../../src/replication/delivery-state.ts';

describe('delivery state', () => {
  it('a lost packet re-marks its fields', () => {
    const d = new DeliveryState(2, 16);
    d.mark(3, 1, 0b100);
    d.take(3, 1, 0b100);
    d.commit(7);
    expect(d.pending[1][3]).toBe(0);
    d.lost(7, null);
    expect(d.pending[1][3]).toBe(0b100);
  });

  it('bug 11: a loss never re-marks fields of a component removed (or removed and re-added) after the send', () => {
    const d = new DeliveryState(2, 16);
    d.mark(3, 1, 0b100);
    d.mark(3, 0, 0b1);
    d.take(3, 1, 0b100);
    d.take(3, 0, 0b1);
    d.commit(7);
    d.forgetComponent(3, 1);
    d.lost(7, null);
    expect(d.pending[1][3]).toBe(0);
    // The other component of the same entity is still resent.
    expect(d.pending[0][3]).toBe(0b1);
    // Removed and re-added: the new component's own changes are pending, the old lost ones are not.
    d.mark(3, 1, 0b100);
    d.take(3, 1, 0b100);
    d.commit(8);
    d.forgetComponent(3, 1);
    d.mark(3, 1, 0b010);
    d.lost(8, null);
    expect(d.pending[1][3]).toBe(0b010);
  });

  it('a forgotten entity (despawned, recycled id) gets nothing re-marked from packets sent before', () => {
    const d = new DeliveryState(1, 16);
    d.mark(5, 0, 0b11);
    d.take(5, 0, 0b11);
    d.commit(1);
    d.forget(5);
    d.lost(1, null);
    expect(d.pending[0][5]).toBe(0);
  });
});
