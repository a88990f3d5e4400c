import { describe, expect, it } from 'vitest';
import {
  encodeControl,
  encodeMessage,
  messageBody,
  readMessageTag,
  writeMessageHeader,
} from '../../src/codec/message-frame.ts';
import { decodeBody } from '../../src/codec/msgpack-body.ts';
import { NetError } from '../../src/errors.ts';
import { Tag } from '../../src/protocol/tags.ts';

describe('message framing', () => {
  it('puts a little-endian u16 tag in front of the body', () => {
    const m = encodeMessage(0x1234, new Uint8Array([7, 8]));
    expect([...m]).toEqual([0x34, 0x12, 7, 8]);
    expect(readMessageTag(m)).toBe(0x1234);
    expect([...messageBody(m)]).toEqual([7, 8]);
    expect(readMessageTag(encodeMessage(0xffff, new Uint8Array(0)))).toBe(0xffff);
  });

  it('writes headers in place', () => {
    const buf = new Uint8Array(5);
    expect(writeMessageHeader(buf, 1, Tag.TelemetryReport)).toBe(3);
    expect(readMessageTag(buf.subarray(1))).toBe(Tag.TelemetryReport);
  });

  it('short input gives tag -1 and an empty body, no throw', () => {
    expect(readMessageTag(new Uint8Array(0))).toBe(-1);
    expect(readMessageTag(new Uint8Array([1]))).toBe(-1);
    expect(messageBody(new Uint8Array([1])).length).toBe(0);
    expect(messageBody(new Uint8Array([1, 0])).length).toBe(0);
  });

  it('control messages carry a msgpack body', () => {
    const m = encodeControl(Tag.Action, { opId: 7, action: 'paint' });
    expect(readMessageTag(m)).toBe(Tag.Action);
    expect(decodeBody(messageBody(m))).toEqual({ ok: true, value: { opId: 7, action: 'paint' } });
  });

  it('rejects a tag that is not a u16 as a programmer mistake', () => {
    expect(() => encodeMessage(65536, new Uint8Array(0))).toThrow(NetError);
    expect(() => encodeControl(-1, {})).toThrow(NetError);
    expect(() => writeMessageHeader(new Uint8Array(2), 0, 1.5)).toThrow(NetError);
  });
});
