/**
 * The sample stamp the server writes next to each accepted pose, so every viewer can place the sample on one
 * timeline and knows it has all of it. Packed into one 30-bit field, low bits first:
 *
 *   bits 0-15   capture time: the owner's capture time mapped onto the server clock, quarter ms modulo 2^16
 *               (wraps every 16.384 s; viewers unwrap against their last sample)
 *   bits 16-21  horizon: how far the owner lets viewers extrapolate, 8 ms units (0..504 ms)
 *   bits 22-29  check: 8-bit hash of the sample's other replicated pose fields in wire form
 *
 * The check exists because the generic path resends a lost field on its own, with its latest value: a viewer may
 * get the stamp of a new sample before a position field lost in an earlier packet comes back. A sample whose fields
 * do not match its check is held until they do, so no half-delivered sample is ever interpolated.
 * One field changes with every sample, so a pose update keeps the "all fields" bit (no field mask).
 */
import type { RegisteredComponent } from '../register.ts';
import { readWireValue, type EntityMapper } from '../replication/compiled-field.ts';

/** Stamp time resolution: 4 units per millisecond (0.25 ms = 0.25 mm at 1 m/s, below the 1 mm position step). */
export const STAMP_UNITS_PER_MS = 4;
/** Stamp time wraps at 2^16 units = 16,384 ms; viewers unwrap relative to their last sample. */
export const STAMP_TIME_RANGE = 65536;
/** Horizon unit: 8 ms, so 6 bits reach 504 ms (twice the default 250 ms bound). */
export const STAMP_HORIZON_UNIT_MS = 8;
/** Largest horizon code (6 bits). */
export const STAMP_HORIZON_MAX_CODE = 63;
/** Check values: 8 bits, so a stale field passes unnoticed once in 256 incomplete samples. */
export const STAMP_CHECK_RANGE = 256;
/** Bits of the packed stamp field. */
export const STAMP_BITS = 30;

const HORIZON_SHIFT = STAMP_TIME_RANGE;
const CHECK_SHIFT = STAMP_TIME_RANGE * (STAMP_HORIZON_MAX_CODE + 1);

/** No entity-reference fields in a pose: the mapper is never asked. */
const NO_MAPPER: EntityMapper = { toNet: () => 0, toLocal: () => 0 };

/** Packs a server-clock time (ms), a horizon (ms) and a check into a stamp. */
export function packStamp(timeMs: number, horizonMs: number, check: number): number {
  const t = Math.round(timeMs * STAMP_UNITS_PER_MS) % STAMP_TIME_RANGE;
  const time = t < 0 ? t + STAMP_TIME_RANGE : t;
  let h = Math.round(horizonMs / STAMP_HORIZON_UNIT_MS);
  if (!(h >= 0)) h = 0;
  if (h > STAMP_HORIZON_MAX_CODE) h = STAMP_HORIZON_MAX_CODE;
  return (check % STAMP_CHECK_RANGE) * CHECK_SHIFT + h * HORIZON_SHIFT + time;
}

/** The wrapped time units (0..65535) of a stamp. */
export function stampTimeUnits(stamp: number): number {
  return stamp % STAMP_TIME_RANGE;
}

/** The horizon in ms of a stamp. */
export function stampHorizonMs(stamp: number): number {
  return (Math.floor(stamp / HORIZON_SHIFT) % (STAMP_HORIZON_MAX_CODE + 1)) * STAMP_HORIZON_UNIT_MS;
}

/** The check of a stamp. */
export function stampCheck(stamp: number): number {
  return Math.floor(stamp / CHECK_SHIFT) % STAMP_CHECK_RANGE;
}

/**
 * The check of `eid`'s current pose: a hash of every replicated field of the pose component but the stamp, in wire
 * form, so the server (from what it will send) and a viewer (from what it applied) compute the same value.
 */
export function poseCheck(component: RegisteredComponent, eid: number): number {
  let h = 0x811c9dc5;
  const fields = component.fields;
  for (let f = 0; f < fields.length; f++) {
    if (fields[f].name === 'stamp') continue;
    const v = readWireValue(fields[f], eid, NO_MAPPER);
    h = Math.imul(h ^ (v % 65536), 0x01000193);
    h = Math.imul(h ^ Math.floor(v / 65536), 0x01000193);
  }
  return (h ^ (h >>> 8) ^ (h >>> 16) ^ (h >>> 24)) & 0xff;
}

/**
 * Unwraps a stamp's time units to ms on a continuous timeline: the value congruent to `units` (mod 16,384 ms) nearest
 * to `expectedMs` (e.g. the previous sample's time plus the local time elapsed since).
 */
export function unwrapStampMs(units: number, expectedMs: number): number {
  const rangeMs = STAMP_TIME_RANGE / STAMP_UNITS_PER_MS;
  const base = units / STAMP_UNITS_PER_MS;
  const k = Math.round((expectedMs - base) / rangeMs);
  return base + k * rangeMs;
}
