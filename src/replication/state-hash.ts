/**
 * The state hash that lets a client detect divergence. Entities are split into 64 buckets by network id; a
 * bucket's hash is the order-independent sum of its entities' hashes over their client-visible wire values.
 * The server hashes only buckets whose entities are settled for that client (nothing pending, nothing in
 * flight), so a mismatch means real divergence, and a resync sends just the diverged buckets.
 */
import type { RegisteredComponent } from '../register.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import { type EntityMapper, readWireValue } from './compiled-field.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { ShadowStore } from './shadow-store.ts';

/** Buckets per hash: 64 keeps a StateHash under ~270 bytes and a resync to ~1/64 of the state per bucket. */
export const HASH_BUCKETS = 64;

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Mixes a number by its value, with no scratch buffer: the two 32-bit halves of its integer part, then 32 bits of
 * its fraction (quantized wire values are integers; raw float fields keep every bit of an f32 in the fraction).
 * Equal values give one hash (-0 is 0); NaN and the infinities get their own.
 */
function mixNumber(h: number, v: number): number {
  if (!Number.isFinite(v)) return mix(mix(h, 0x7ff00000), v > 0 ? 1 : v < 0 ? 2 : 3);
  const i = Math.floor(v);
  const hi = Math.floor(i / 4294967296);
  h = mix(mix(h, hi | 0), (i - hi * 4294967296) >>> 0);
  return mix(h, ((v - i) * 4294967296) >>> 0);
}

/** Bucket of a network id. */
export function bucketOf(netId: number): number {
  return netId & (HASH_BUCKETS - 1);
}

/** Hash of one entity's replicated state (network id, components it carries, every field's wire value). */
export function entityHash(
  comps: readonly RegisteredComponent[],
  reg: EntityRegistry,
  shadow: ShadowStore,
  eid: number,
): number {
  return hashFields(comps, reg, eid, -1, (c, f) => shadow.wire[c][f][eid]);
}

/**
 * The same hash computed from what the client actually holds: its component arrays, re-quantized (a local
 * write to a replicated value shows up as divergence). References use the received network id, since a
 * reference to an entity not spawned here yet is 0 locally.
 */
export function visibleEntityHash(
  comps: readonly RegisteredComponent[],
  reg: EntityRegistry,
  shadow: ShadowStore,
  mapper: EntityMapper,
  eid: number,
): number {
  return hashFields(comps, reg, eid, -1, (c, f) => {
    const fd = comps[c].fields[f];
    return fd.kind === FieldKind.entity ? shadow.wire[c][f][eid] : readWireValue(fd, eid, mapper);
  });
}

/** Latest receive tick of any field of `eid` (receiver side). */
export function latestTick(comps: readonly RegisteredComponent[], shadow: ShadowStore, eid: number): number {
  let t = 0;
  for (let c = 0; c < comps.length; c++) {
    const ticks = shadow.tick[c];
    for (let f = 0; f < ticks.length; f++) if (ticks[f][eid] > t) t = ticks[f][eid];
  }
  return t;
}

/** Accumulates bucket hashes; `valid` clears buckets that must not be compared. */
export class BucketHashes {
  readonly sums = new Uint32Array(HASH_BUCKETS);
  readonly valid = new Uint8Array(HASH_BUCKETS);

  reset(): void {
    this.sums.fill(0);
    this.valid.fill(1);
  }

  add(netId: number, hash: number): void {
    const b = bucketOf(netId);
    this.sums[b] = (this.sums[b] + hash) >>> 0;
  }

  invalidate(netId: number): void {
    this.valid[bucketOf(netId)] = 0;
  }
}

/**
 * Hash of one owned entity over the components in `componentMask` (bit c = component c), from `wireOf(c, f)`:
 * the owner hashes what it last sent, the server what it applied. The owner stream's check (OwnerHash).
 */
export function ownedEntityHash(
  comps: readonly RegisteredComponent[],
  reg: EntityRegistry,
  eid: number,
  componentMask: number,
  wireOf: (c: number, f: number) => number,
): number {
  return hashFields(comps, reg, eid, componentMask, wireOf);
}

/** The one hash: network id, then for each carried component (in `mask`; -1 = all) its id and field values. */
function hashFields(
  comps: readonly RegisteredComponent[],
  reg: EntityRegistry,
  eid: number,
  mask: number,
  wireOf: (c: number, f: number) => number,
): number {
  let h = mix(0x811c9dc5, reg.netIdOf[eid]);
  for (let c = 0; c < comps.length; c++) {
    if (reg.has[c][eid] === 0) continue;
    if (mask !== -1 && (c >= 32 || ((mask >>> c) & 1) === 0)) continue;
    h = mix(h, c + 1);
    for (let f = 0; f < comps[c].fields.length; f++) {
      h = mixNumber(h, wireOf(c, f));
    }
  }
  return h;
}
