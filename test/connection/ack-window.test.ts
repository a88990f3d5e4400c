import { describe, expect, it } from 'vitest';
import {
  ReceivedKind,
  ReceivedPacketWindow,
  SEQUENCE_WINDOW_PACKETS,
  SentPacketWindow,
  SentState,
} from '../../src/connection/ack-window.ts';
import { seqAdd } from '../../src/connection/packet-header.ts';

describe('ReceivedPacketWindow', () => {
  it('produces ack and ack bits, across the u16 wrap', () => {
    const w = new ReceivedPacketWindow();
    expect(w.hasAny).toBe(false);
    for (const s of [65530, 65531, 65533, 0, 2]) w.record(s);
    expect(w.ack).toBe(2);
    // bit i = packet (2 - 1 - i): 1 no, 0 yes, 65535 no, 65534 no, 65533 yes, 65532 no, 65531 yes, 65530 yes.
    expect(w.ackBits()).toBe(0b11010010);
    expect(w.classify(65533)).toBe(ReceivedKind.Duplicate);
    expect(w.classify(1)).toBe(ReceivedKind.New);
  });

  it('accepts late packets inside the window and drops older ones as stale', () => {
    const w = new ReceivedPacketWindow();
    w.record(5000);
    expect(w.classify(5000 - 10)).toBe(ReceivedKind.New);
    w.record(4990);
    expect(w.ack).toBe(5000);
    expect(w.classify(4990)).toBe(ReceivedKind.Duplicate);
    expect(w.classify(5000 - SEQUENCE_WINDOW_PACKETS)).toBe(ReceivedKind.Stale);
  });

  it('forgets slots it skipped over, so a sequence 1024 later is not taken for a duplicate', () => {
    const w = new ReceivedPacketWindow();
    w.record(10);
    w.record(10 + 5);
    expect(w.classify(10 + SEQUENCE_WINDOW_PACKETS)).toBe(ReceivedKind.New);
    w.record(10 + 3 * SEQUENCE_WINDOW_PACKETS);
    expect(w.classify(10 + 2 * SEQUENCE_WINDOW_PACKETS + 5)).toBe(ReceivedKind.New);
    expect(w.ackBits()).toBe(0);
  });
});

describe('SentPacketWindow', () => {
  const noop = () => {};

  it('acks once, then ignores repeated acks', () => {
    const w = new SentPacketWindow<string>();
    w.add(0, 10, 'a', noop);
    expect(w.ack(0)).toBeGreaterThanOrEqual(0);
    expect(w.ack(0)).toBe(-1);
    expect(w.ack(1)).toBe(-1);
  });

  it('declares a packet lost once 3 later packets are acked, not after 2', () => {
    const w = new SentPacketWindow<null>();
    for (let i = 0; i < 5; i++) w.add(0, 10, null, noop);
    const lost: number[] = [];
    w.noteAckField(2);
    w.ack(1);
    w.ack(2);
    w.sweep(0, 1e9, (s) => lost.push(s));
    expect(lost).toEqual([]);
    w.ack(4);
    w.noteAckField(4);
    w.sweep(0, 1e9, (s) => lost.push(s));
    expect(lost).toEqual([0]);
    w.sweep(0, 1e9, (s) => lost.push(s));
    expect(lost).toEqual([0]);
    // Acked after being declared lost: data arrived, but the ack is not news for the callbacks.
    const slot = w.ack(0);
    expect(w.state[slot]).toBe(SentState.AckedAfterLost);
  });

  it('declares lost what falls out of the ack bits, and what times out', () => {
    const w = new SentPacketWindow<null>();
    for (let i = 0; i < 40; i++) w.add(i, 10, null, noop);
    const lost: number[] = [];
    w.noteAckField(39);
    w.ack(39);
    w.sweep(40, 1e9, (s) => lost.push(s));
    // 39 - 33 = 6: packets 0..6 can no longer be acked by a newer header.
    expect(lost).toEqual([0, 1, 2, 3, 4, 5, 6]);
    w.sweep(40 + 100, 100, (s) => lost.push(s));
    expect(lost.length).toBe(39);
  });

  it('declares lost a pending packet whose slot is reused', () => {
    const w = new SentPacketWindow<null>();
    const lost: number[] = [];
    for (let i = 0; i < SEQUENCE_WINDOW_PACKETS + 2; i++) w.add(0, 1, null, (s) => lost.push(s));
    expect(lost).toEqual([0, 1]);
    expect(w.next).toBe(seqAdd(SEQUENCE_WINDOW_PACKETS, 2));
  });
});
