/**
 * Message framing: a message is a u16 tag, little-endian, followed by its body (MessagePack for control messages,
 * bit-packed for state). The length of a message is known from the layer that carries it (connection layer).
 */
import { usageError } from '../errors.ts';
import { encodeBodyView } from './msgpack-body.ts';

/** Bytes of the tag in front of every message body. */
export const MESSAGE_HEADER_BYTES = 2;

/** Largest tag value: tags are u16. */
export const MAX_TAG = 0xffff;

function checkTag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_TAG) {
    usageError(`message tag ${tag} is not a u16`, 'use a value from Tag (src/protocol/tags.ts)');
  }
}

/** Writes the u16 little-endian tag at `pos` (the caller guarantees 2 bytes of room); returns the position after it. */
export function writeMessageHeader(buf: Uint8Array, pos: number, tag: number): number {
  checkTag(tag);
  buf[pos] = tag & 0xff;
  buf[pos + 1] = tag >>> 8;
  return pos + MESSAGE_HEADER_BYTES;
}

/** Frames `body` behind `tag` in a new array. */
export function encodeMessage(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(MESSAGE_HEADER_BYTES + body.length);
  writeMessageHeader(out, 0, tag);
  out.set(body, MESSAGE_HEADER_BYTES);
  return out;
}

/** Frames a control message: `tag` then `value` as a MessagePack body, in one new array. */
export function encodeControl(tag: number, value: unknown): Uint8Array {
  checkTag(tag);
  return encodeMessage(tag, encodeBodyView(value));
}

/** The tag of a framed message, or -1 when it is shorter than the tag. */
export function readMessageTag(bytes: Uint8Array): number {
  if (bytes.length < MESSAGE_HEADER_BYTES) return -1;
  return bytes[0] | (bytes[1] << 8);
}

/** A view of the body after the tag (empty when there is none); copy it to keep it past the packet. */
export function messageBody(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(bytes.length < MESSAGE_HEADER_BYTES ? bytes.length : MESSAGE_HEADER_BYTES);
}
