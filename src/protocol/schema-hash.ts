/**
 * The 64-bit schema hash: FNV-1a over the canonical manifest JSON. Peers compare it in the handshake, so any
 * difference in component order, names, field kinds or quantization parameters refuses the connection.
 */

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a 64 of a string's UTF-8 bytes, as 16 lowercase hex digits. */
export function hash64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let h = FNV64_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h ^= BigInt(bytes[i]);
    h = (h * FNV64_PRIME) & MASK64;
  }
  return h.toString(16).padStart(16, '0');
}

/** JSON with object keys in insertion order and no whitespace: the canonical form the hash covers. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value);
}
