/**
 * The client's side of the periodic StateHash: reading the server's per-bucket hashes, and finding the buckets
 * where this client's visible state differs. Buckets holding an entity updated after the hash's tick are skipped
 * (newer data legitimately differs), and so are the entities this client owns (it is ahead of the server there).
 *
 * StateHash body: varuint tick, u32 bucket mask low, u32 bucket mask high, then one u32 per bucket in the mask.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { RegisteredComponent } from '../register.ts';
import { hasBucket, maskOf } from './bucket-mask.ts';
import type { EntityMapper } from './compiled-field.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { ShadowStore } from './shadow-store.ts';
import { BucketHashes, HASH_BUCKETS, latestTick, visibleEntityHash } from './state-hash.ts';

/** The server's hashes of the state it sent up to `tick`, per bucket in the mask `lo`/`hi`. */
export interface ServerStateHash {
  tick: number;
  lo: number;
  hi: number;
  sums: Uint32Array;
}

/** Reads a StateHash body; null when it is malformed. */
export function readStateHash(r: BitReader): ServerStateHash | null {
  const tick = r.readVarUint();
  const lo = r.readU32();
  const hi = r.readU32();
  const sums = new Uint32Array(HASH_BUCKETS);
  for (let b = 0; b < HASH_BUCKETS; b++) {
    if (hasBucket(lo, hi, b)) sums[b] = r.readU32();
  }
  return r.ok ? { tick, lo: lo >>> 0, hi: hi >>> 0, sums } : null;
}

/** Compares a client's state with the server's hashes; owns its working sums. */
export class ClientHashCheck {
  private readonly mine = new BucketHashes();

  constructor(
    private readonly comps: readonly RegisteredComponent[],
    private readonly reg: EntityRegistry,
    private readonly shadow: ShadowStore,
    private readonly mapper: EntityMapper,
  ) {}

  /** The mask (two u32 halves) of the buckets that differ from `hash`; [0, 0] when all comparable ones match. */
  diverged(hash: ServerStateHash, clientId: number): [number, number] {
    const { comps, reg, shadow, mine } = this;
    mine.reset();
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      const netId = reg.netIdOf[eid];
      if (reg.owner[eid] === clientId) continue;
      if (latestTick(comps, shadow, eid) > hash.tick) mine.invalidate(netId);
      else mine.add(netId, visibleEntityHash(comps, reg, shadow, this.mapper, eid));
    }
    return maskOf((b) => hasBucket(hash.lo, hash.hi, b) && mine.valid[b] === 1 && mine.sums[b] !== hash.sums[b]);
  }
}
