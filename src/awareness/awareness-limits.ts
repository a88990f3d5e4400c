/**
 * The bounds and timings of awareness, shared by the server and the clients, and the one MessagePack decoder
 * shape awareness bodies are read with (tight limits: awareness records are small).
 */
import { createBodyDecoder, type BodyDecoder } from '../codec/msgpack-body.ts';
import { MAX_AWARENESS_FIELDS, MAX_AWARENESS_ITEMS } from './awareness-schema.ts';

/** Default largest AwarenessSet / AwarenessMotion body, bytes: 64 selected ids as u32 plus a few fields fit twice. */
export const DEFAULT_AWARENESS_MAX_RECORD_BYTES = 1024;
/** Default awareness messages accepted per user per second: a 30 Hz cursor plus discrete changes, with room to spare. */
export const DEFAULT_AWARENESS_MAX_RATE_HZ = 60;
/** Default bucket size: two seconds at the rate, so a burst of clicks after a stall is not dropped. */
export const DEFAULT_AWARENESS_BURST = 120;
/** Default drops within one second that make a user a repeat offender (reported once as `RateLimited`). */
export const DEFAULT_AWARENESS_OFFENDER_DROPS = 30;
/**
 * A continuous value that has not changed for this long is sent once more on the reliable lane: the unreliable
 * copies may all have been lost, and 100 ms is a few send ticks, short enough that a resting cursor is exact quickly.
 */
export const AWARENESS_REST_MS = 100;
/** How often the server re-evaluates who sees whose awareness: the interest layer's 10 Hz. */
export const AWARENESS_RELEVANCE_INTERVAL_MS = 100;
/** Default continuous sends per second from a client: smooth enough for a cursor, a third of a 90 Hz frame rate. */
export const DEFAULT_AWARENESS_MOTION_RATE_HZ = 30;
/** Default records a client holds (users it is shown); a room is far smaller, a hostile server cannot grow it. */
export const DEFAULT_AWARENESS_MAX_RECORDS = 1024;
/** Records per AwarenessSnapshot message: 64 records of <= 1 KiB keep a message well under one 64 KiB fragment run. */
export const AWARENESS_SNAPSHOT_RECORDS = 64;

/** A decoder for awareness bodies: no strings beyond a hash, arrays no longer than a list or a snapshot chunk. */
export function createAwarenessDecoder(): BodyDecoder {
  return createBodyDecoder({
    maxStrLength: 64,
    maxBinLength: 0,
    maxArrayLength: Math.max(MAX_AWARENESS_ITEMS, MAX_AWARENESS_FIELDS, AWARENESS_SNAPSHOT_RECORDS),
    maxMapLength: 8,
    // map > records > record > changes > pair > list, and the list's items one deeper
    maxDepth: 6,
  });
}
