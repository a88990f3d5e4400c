/**
 * The client's mirror of the server's entities in the local world: full-state records (Spawn, Snapshot,
 * ComponentAdd, catch-up) create entities and components and apply their values in two passes, so references
 * inside one batch resolve; despawns destroy; ownership changes switch which side's values are the truth.
 */
import type { Emitter, ReplicationEvents } from '../events.ts';
import type { RegisteredComponent } from '../register.ts';
import { applyWireValue as applyWire, type EntityMapper } from './compiled-field.ts';
import type { DeliveryState } from './delivery-state.ts';
import type { PackScratch } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { readFullEntity } from './full-state.ts';
import type { ReferenceLinks } from './reference-links.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { BitReader } from './wire-bodies.ts';
import type { WorldAdapter } from './world-adapter.ts';
import type { ClientBaselineDecoder } from './client-baseline-decoder.ts';

/** What the mirror writes into and reports through. */
export interface EntityMirrorHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly delivery: DeliveryState;
  readonly scratch: PackScratch;
  readonly mapper: EntityMapper;
  readonly refs: ReferenceLinks;
  readonly world: WorldAdapter;
  readonly events: Emitter<ReplicationEvents>;
  readonly authoritySeq: Map<number, number>;
  /** This client's id (0 before Welcome). */
  clientId(): number;
  /** The acked-baseline history, when the server granted `ackedbase`. */
  baselines(): ClientBaselineDecoder | undefined;
}

/** Creates, fills, re-owns and destroys the local copies of the server's entities. */
export class EntityMirror {
  private readonly h: EntityMirrorHost;

  constructor(host: EntityMirrorHost) {
    this.h = host;
  }

  /** True when this client owns `eid` and so writes it. */
  isOwned(eid: number): boolean {
    const me = this.h.clientId();
    return this.h.registry.isReplicated(eid) && this.h.registry.owner[eid] === me && me !== 0;
  }

  /** Creates or updates entities from full-state records: pass 1 creates, pass 2 applies values. */
  applyFullEntities(r: BitReader, count: number, tick: number, seen: Set<number> | null, aligned = false): boolean {
    const s = this.h.scratch;
    const comps = this.h.comps;
    const reg = this.h.registry;
    const start = r.bitPosition;
    // 1. validate and create entities and components (so references inside the batch resolve)
    for (let i = 0; i < count; i++) {
      if (readFullEntity(r, s, comps) < 0) return false;
      if (aligned) r.alignToByte();
    }
    if (!r.ok) return false;
    r.seekBits(start);
    // A snapshot does not overwrite what this client already owned (it is ahead of the server, e.g. after a
    // resume: its writes made while cut are on their way); components new to such an entity take the server's.
    let kept: Map<number, Uint8Array> | null = null;
    for (let i = 0; i < count; i++) {
      const netId = readFullEntity(r, s, comps);
      if (aligned) r.alignToByte();
      seen?.add(netId);
      const prior = reg.toLocal(netId);
      if (seen !== null && prior !== 0 && this.isOwned(prior))
        (kept ??= new Map()).set(
          netId,
          Uint8Array.from(reg.has, (h) => h[prior]),
        );
      this.ensureEntity(netId, s.present, s.owner, true);
    }
    // 2. values
    r.seekBits(start);
    for (let i = 0; i < count; i++) {
      const netId = readFullEntity(r, s, comps);
      if (aligned) r.alignToByte();
      this.applyValues(reg.toLocal(netId), tick, kept?.get(netId) ?? null);
    }
    return true;
  }

  /** The local entity of `netId`, created if new, with exactly (or at least) the `present` components. */
  ensureEntity(netId: number, present: Uint8Array, owner: number, exact: boolean): number {
    const { registry: reg, world, shadow } = this.h;
    let eid = reg.toLocal(netId);
    let created = false;
    if (eid === 0) {
      eid = world.createEntity();
      reg.add(eid, netId);
      shadow.ensure(eid);
      this.h.delivery.ensure(eid);
      created = true;
    }
    for (let c = 0; c < present.length; c++) {
      if (present[c] && !reg.has[c][eid]) {
        world.addComponent(eid, c);
        reg.has[c][eid] = 1;
      } else if (exact && !present[c] && reg.has[c][eid]) {
        world.removeComponent(eid, c);
        reg.has[c][eid] = 0;
        shadow.clear(c, eid);
      }
    }
    if (created) {
      this.h.refs.resolve(netId, eid);
      this.h.events.emit('spawn', eid, netId);
    }
    this.setOwner(eid, owner);
    return eid;
  }

  /** Applies the scratch's decoded values of tick `tick` to `eid` (components marked in `keep` left alone). */
  applyValues(eid: number, tick: number, keep: Uint8Array | null = null): void {
    const { scratch: s, comps, shadow, mapper } = this.h;
    for (let c = 0; c < comps.length; c++) {
      if (!s.present[c] || (keep !== null && keep[c] === 1)) continue;
      const fields = comps[c].fields;
      const base = s.offsets[c];
      for (let f = 0; f < fields.length; f++) {
        if (tick < shadow.tick[c][f][eid]) continue;
        shadow.tick[c][f][eid] = tick;
        const text = s.text.strings[base + f];
        shadow.wire[c][f][eid] = applyWire(fields[f], eid, s.values[base + f], mapper, s.quat, text);
        if (fields[f].strings !== null && this.isOwned(eid)) shadow.adoptString(c, f, eid);
      }
    }
  }

  /** Removes `eid` from the world (destroyed on the server, or out of this client's interest). */
  destroy(eid: number, outOfInterest: boolean): void {
    const h = this.h;
    const netId = h.registry.netIdOf[eid];
    for (let c = 0; c < h.comps.length; c++) h.shadow.clear(c, eid);
    h.delivery.forget(eid);
    h.baselines()?.forget(eid);
    h.refs.destroying(eid);
    h.registry.remove(eid);
    if (!outOfInterest) h.authoritySeq.delete(netId);
    h.world.destroyEntity(eid);
    h.events.emit('despawn', eid, netId, outOfInterest);
  }

  /** Records `owner` as the owner of `eid`; when it is this client, local writes are the truth from now on. */
  setOwner(eid: number, owner: number): void {
    const h = this.h;
    const reg = h.registry;
    const previous = reg.owner[eid];
    if (previous === owner) return;
    reg.owner[eid] = owner;
    if (owner === h.clientId()) {
      // From now on local writes are the truth: start diffing from the current values.
      for (let c = 0; c < h.comps.length; c++) if (reg.has[c][eid]) h.shadow.capture(c, eid);
    } else h.delivery.forget(eid);
    h.events.emit('ownership', eid, owner);
  }
}
