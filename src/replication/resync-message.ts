/**
 * Resync {lastSeq}: a resumed client asks the server to catch it up from the last state tick it applied.
 * Body (after the u16 tag 5): a MessagePack map { lastSeq: uint } (extra keys are ignored, so fields can be added).
 * Decoding validates before trusting: anything else is refused, never thrown.
 */
import { decodeBody, encodeBody } from '../codec/msgpack-body.ts';
import { encodeMessage } from '../codec/message-frame.ts';
import { asUint, isRecord } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';

/** Encodes a framed Resync message asking for everything after `lastSeq`. */
export function encodeResync(lastSeq: number): Uint8Array {
  return encodeMessage(Tag.Resync, encodeBody({ lastSeq }));
}

/** The lastSeq of a framed Resync message, or undefined when the body is malformed. */
export function decodeResync(msg: Uint8Array): number | undefined {
  if (msg.length < 2) return undefined;
  const decoded = decodeBody(msg.subarray(2));
  if (!decoded.ok || !isRecord(decoded.value)) return undefined;
  return asUint(decoded.value.lastSeq);
}
