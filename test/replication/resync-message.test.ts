/** The Resync {lastSeq} body (issue 14 §1): round trip, and hostile bodies refused without a throw. */
import { describe, expect, it } from 'vitest';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { encodeMessage } from '../../src/codec/message-frame.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { decodeResync, encodeResync } from '../../src/replication/resync-message.ts';

describe('Resync message', () => {
  it('round-trips lastSeq, tagged Resync', () => {
    for (const seq of [0, 1, 127, 65535, 2 ** 40]) {
      const msg = encodeResync(seq);
      expect(msg[0] | (msg[1] << 8)).toBe(Tag.Resync);
      expect(decodeResync(msg)).toBe(seq);
    }
  });

  it('refuses garbage, wrong types, negative, fractional and unsafe values', () => {
    const bodies: unknown[] = [{ lastSeq: -1 }, { lastSeq: 1.5 }, { lastSeq: 2 ** 60 }, { lastSeq: '5' }, {}, 7, null];
    for (const b of bodies) expect(decodeResync(encodeMessage(Tag.Resync, encodeBody(b)))).toBeUndefined();
    expect(decodeResync(new Uint8Array([5]))).toBeUndefined();
    expect(decodeResync(new Uint8Array([5, 0, 0xc1, 0xff, 0x00]))).toBeUndefined();
  });
});
