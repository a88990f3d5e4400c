/**
 * MessagePack bodies of control messages (Hello, Welcome, Action, ...), so fields can be added without breaking peers.
 * Encoding reuses one `Encoder`; decoding reuses one `Decoder` and never throws. Before the decoder sees a body, a
 * structural scan checks every length against the bytes actually present, the nesting depth and the limits, and
 * rejects extension types: so a 5-byte body cannot make the decoder allocate a 4-billion-slot array.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { ExtensionCodecType } from '@msgpack/msgpack';
import { NetError, usageError } from '../errors.ts';

/** Outcome of `decodeBody`: the value, or why the body was rejected. */
export type DecodeResult = { ok: true; value: unknown } | { ok: false; error: string };

/** Limits applied to a decoded body; anything above is rejected before allocating. */
export interface BodyLimits {
  /** Longest string in UTF-8 bytes. */
  maxStrLength: number;
  /** Longest binary value in bytes. */
  maxBinLength: number;
  /** Most elements in one array. */
  maxArrayLength: number;
  /** Most entries in one map. */
  maxMapLength: number;
  /** Deepest nesting of arrays and maps (the top-level value is depth 0). */
  maxDepth: number;
}

/**
 * Defaults: strings up to 64 KiB (an SDP offer relayed by Signal is ~2-10 KB), binary up to 1 MiB (asset chunks;
 * the 8 MiB reliable cap bounds the whole body anyway), 65,536 array elements, 4,096 map entries (control messages are
 * small records), depth 32 (enough for any message shape, small enough that recursive consumers cannot overflow).
 */
export const DEFAULT_BODY_LIMITS: Readonly<BodyLimits> = Object.freeze({
  maxStrLength: 65_536,
  maxBinLength: 1_048_576,
  maxArrayLength: 65_536,
  maxMapLength: 4_096,
  maxDepth: 32,
});

/** Extension codec that refuses every extension type both ways (the wire has none, Dates included). */
const NO_EXTENSIONS: ExtensionCodecType<undefined> = {
  tryToEncode(object: unknown) {
    if (object instanceof Date || object instanceof Map || object instanceof Set) {
      usageError(
        `cannot encode a ${Object.prototype.toString.call(object)} in a message body`,
        'send plain objects, arrays, numbers (a Date as epoch milliseconds), strings and Uint8Arrays',
      );
    }
    return null;
  },
  decode(_data: Uint8Array, extType: number) {
    throw new Error(`extension type ${extType} is not allowed`);
  },
};

const encoder = new Encoder({ extensionCodec: NO_EXTENSIONS, ignoreUndefined: true, maxDepth: 32 });

/**
 * Encodes a body into the shared encoder's buffer and returns a view of it, valid until the next encode. Internal fast
 * path for framing (one copy instead of two); use `encodeBody` otherwise. Throws a Usage NetError for unencodable
 * input.
 */
export function encodeBodyView(value: unknown): Uint8Array {
  try {
    return encoder.encodeSharedRef(value);
  } catch (err) {
    if (err instanceof NetError) throw err;
    return usageError(
      `cannot encode message body: ${err instanceof Error ? err.message : String(err)}`,
      'send plain objects, arrays, numbers, strings, booleans, null and Uint8Arrays, nested at most 32 deep',
    );
  }
}

/** Encodes a control message body as MessagePack (undefined fields are left out); returns a fresh copy. */
export function encodeBody(value: unknown): Uint8Array {
  return encodeBodyView(value).slice();
}

/** A reusable body decoder with its own limits. */
export interface BodyDecoder {
  /** Decodes one body; never throws. */
  decode(bytes: Uint8Array): DecodeResult;
}

/** Creates a body decoder with `limits` (missing ones from `DEFAULT_BODY_LIMITS`). */
export function createBodyDecoder(limits: Partial<BodyLimits> = {}): BodyDecoder {
  const l: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...limits };
  const decoder = new Decoder({
    extensionCodec: NO_EXTENSIONS,
    maxStrLength: l.maxStrLength,
    maxBinLength: l.maxBinLength,
    maxArrayLength: l.maxArrayLength,
    maxMapLength: l.maxMapLength,
    maxExtLength: 0,
  });
  const pending = new Float64Array(l.maxDepth + 2);
  return {
    decode(bytes: Uint8Array): DecodeResult {
      const problem = scanBody(bytes, l, pending);
      if (problem !== null) return { ok: false, error: problem };
      try {
        return { ok: true, value: decoder.decode(bytes) };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

const defaultDecoder = createBodyDecoder();

/** Decodes a control message body with `DEFAULT_BODY_LIMITS`; never throws. */
export function decodeBody(bytes: Uint8Array): DecodeResult {
  return defaultDecoder.decode(bytes);
}

/** Decodes a framed message's MessagePack body (after its 2-byte tag) and validates it; null when either fails. */
export function readBody<T>(message: Uint8Array, parse: (v: unknown) => T | null): T | null {
  const decoded = decodeBody(message.subarray(2));
  return decoded.ok ? parse(decoded.value) : null;
}

/**
 * Walks the MessagePack structure without building it: every declared length must fit the remaining bytes and the
 * limits, nesting must stay within maxDepth, no extension types, no trailing bytes. `pending[d]` counts the items
 * still expected at depth d. Returns null when the body is well formed, else the problem.
 */
export function scanBody(bytes: Uint8Array, limits: BodyLimits, pending: Float64Array): string | null {
  const end = bytes.length;
  if (end === 0) return 'empty body';
  let pos = 0;
  let depth = 0;
  pending[0] = 1;
  while (depth >= 0) {
    if (pending[depth] === 0) {
      depth--;
      continue;
    }
    pending[depth]--;
    if (pos >= end) return 'truncated body';
    const head = bytes[pos++];
    let skip = 0; // payload bytes after the head
    let lenBytes = 0; // size of an explicit length field
    let kind = 0; // 0 scalar, 1 str, 2 bin, 3 array, 4 map
    let count = 0;
    if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) {
      skip = 0;
    } else if (head <= 0x8f) {
      kind = 4;
      count = head & 0x0f;
    } else if (head <= 0x9f) {
      kind = 3;
      count = head & 0x0f;
    } else if (head <= 0xbf) {
      kind = 1;
      count = head & 0x1f;
    } else if (head === 0xcc || head === 0xd0) skip = 1;
    else if (head === 0xcd || head === 0xd1) skip = 2;
    else if (head === 0xce || head === 0xd2 || head === 0xca) skip = 4;
    else if (head === 0xcf || head === 0xd3 || head === 0xcb) skip = 8;
    else if (head === 0xc4 || head === 0xd9) {
      kind = head === 0xc4 ? 2 : 1;
      lenBytes = 1;
    } else if (head === 0xc5 || head === 0xda) {
      kind = head === 0xc5 ? 2 : 1;
      lenBytes = 2;
    } else if (head === 0xc6 || head === 0xdb) {
      kind = head === 0xc6 ? 2 : 1;
      lenBytes = 4;
    } else if (head === 0xdc || head === 0xde) {
      kind = head === 0xdc ? 3 : 4;
      lenBytes = 2;
    } else if (head === 0xdd || head === 0xdf) {
      kind = head === 0xdd ? 3 : 4;
      lenBytes = 4;
    } else if (head === 0xc1) return 'reserved type byte 0xc1';
    else return `extension types are not allowed (type byte 0x${head.toString(16)})`;
    // Read an explicit big-endian length.
    if (lenBytes > 0) {
      if (pos + lenBytes > end) return 'truncated length';
      count = 0;
      for (let i = 0; i < lenBytes; i++) count = count * 256 + bytes[pos++];
    }
    const remaining = end - pos;
    if (kind === 0) {
      if (skip > remaining) return 'truncated value';
      pos += skip;
    } else if (kind === 1 || kind === 2) {
      if (count > (kind === 1 ? limits.maxStrLength : limits.maxBinLength)) return `length ${count} over the limit`;
      if (count > remaining) return 'truncated string or binary';
      pos += count;
    } else {
      // Every element takes at least one byte, so a count beyond the remaining bytes is a lie.
      const items = kind === 3 ? count : count * 2;
      if (count > (kind === 3 ? limits.maxArrayLength : limits.maxMapLength)) return `${count} elements over the limit`;
      if (items > remaining) return 'container longer than the body';
      if (items > 0) {
        if (depth + 1 > limits.maxDepth) return `nesting deeper than ${limits.maxDepth}`;
        pending[++depth] = items;
      }
    }
  }
  return pos === end ? null : 'trailing bytes after the body';
}
