/**
 * Inflating a body whose raw length the sender declared: the output buffer is the declared length plus one byte,
 * so memory stays bounded by the declaration, and a stream that inflates to more (a deflate bomb claiming a small
 * size) or to less is refused instead of being silently cut. The caller checks the declared length against its
 * own cap before calling.
 */
import { inflateSync } from 'fflate';

/** Why an inflate was refused. */
export type InflateRefusal = 'does not inflate' | 'inflates to the wrong size';

/** The inflated bytes of `body`, exactly `rawLength` of them, or why not. */
export function inflateExactly(body: Uint8Array, rawLength: number): Uint8Array | InflateRefusal {
  let out: Uint8Array;
  try {
    out = inflateSync(body, { out: new Uint8Array(rawLength + 1) });
  } catch {
    return 'does not inflate';
  }
  return out.length === rawLength ? out : 'inflates to the wrong size';
}
