import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/random.ts';
import {
  HeaderResult,
  PACKET_HEADER_BYTES,
  createPacketHeader,
  readPacketHeader,
  seqAdd,
  seqDiff,
  seqGreaterThan,
  writePacketHeader,
} from '../../src/connection/packet-header.ts';

describe('packet header', () => {
  it('round-trips every field at the documented offsets, little-endian', () => {
    const buf = new Uint8Array(PACKET_HEADER_BYTES);
    const view = new DataView(buf.buffer);
    writePacketHeader(view, { protocolId: 0xec, seq: 0x1234, ack: 0xfffe, ackBits: 0x80000001, flags: 1 });
    expect([...buf]).toEqual([0xec, 0x34, 0x12, 0xfe, 0xff, 0x01, 0x00, 0x00, 0x80, 0x01]);
    const out = createPacketHeader();
    expect(readPacketHeader(view, PACKET_HEADER_BYTES, 0xec, out)).toBe(HeaderResult.Ok);
    expect(out).toEqual({ protocolId: 0xec, seq: 0x1234, ack: 0xfffe, ackBits: 0x80000001, flags: 1 });
  });

  it('round-trips random headers', () => {
    const r = createRandom(1);
    const buf = new Uint8Array(PACKET_HEADER_BYTES);
    const view = new DataView(buf.buffer);
    const out = createPacketHeader();
    for (let i = 0; i < 1000; i++) {
      const h = { protocolId: 7, seq: r.int(65536), ack: r.int(65536), ackBits: r.int(2 ** 32), flags: r.int(2) };
      writePacketHeader(view, h);
      expect(readPacketHeader(view, buf.length, 7, out)).toBe(HeaderResult.Ok);
      expect(out).toEqual(h);
    }
  });

  it('rejects short packets, other protocols and unknown flags', () => {
    const buf = new Uint8Array(PACKET_HEADER_BYTES);
    const view = new DataView(buf.buffer);
    const out = createPacketHeader();
    writePacketHeader(view, { protocolId: 0xec, seq: 1, ack: 0, ackBits: 0, flags: 0 });
    expect(readPacketHeader(view, PACKET_HEADER_BYTES - 1, 0xec, out)).toBe(HeaderResult.TooShort);
    expect(readPacketHeader(view, PACKET_HEADER_BYTES, 0xed, out)).toBe(HeaderResult.WrongProtocol);
    buf[9] = 2;
    expect(readPacketHeader(view, PACKET_HEADER_BYTES, 0xec, out)).toBe(HeaderResult.UnknownFlags);
  });

  it('compares u16 sequences across the wrap', () => {
    expect(seqGreaterThan(1, 0)).toBe(true);
    expect(seqGreaterThan(0, 65535)).toBe(true);
    expect(seqGreaterThan(65535, 0)).toBe(false);
    expect(seqGreaterThan(5, 5)).toBe(false);
    expect(seqDiff(2, 65534)).toBe(4);
    expect(seqDiff(65534, 2)).toBe(-4);
    expect(seqDiff(32767, 0)).toBe(32767);
    expect(seqDiff(32768, 0)).toBe(-32768);
    expect(seqAdd(65535, 1)).toBe(0);
    expect(seqAdd(0, -1)).toBe(65535);
  });
});
