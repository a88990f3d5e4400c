/**
 * Structural ops on the wire: each client's queued spawns, despawns, component adds and removes and ownership
 * grants go out as reliable messages, one per run of equal ops, split so a message stays within a snapshot chunk
 * (bodies in wire-bodies.ts). Deltas that follow depend on the last of them (`lastStructuralId`).
 */
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import type { PackScratch } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { SNAPSHOT_CHUNK_BYTES, writeFullEntity } from './full-state.ts';
import { Op, type PeerReplication } from './peer-replication.ts';
import type { ShadowStore } from './shadow-store.ts';
import { beginMessage, type BitWriter } from './wire-bodies.ts';

/** Most despawns in one Despawn message. */
const MAX_DESPAWNS_PER_MESSAGE = 4096;

/** Estimated bits of one spawned entity when splitting a Spawn message: its ids, plus 64 per component. */
const SPAWN_ENTITY_BITS = 48;
const SPAWN_COMPONENT_BITS = 64;

/** Writes and sends each client's queued structural ops. */
export class OpSender {
  constructor(
    private readonly writer: BitWriter,
    private readonly scratch: PackScratch,
    private readonly comps: readonly RegisteredComponent[],
    private readonly shadow: ShadowStore,
    private readonly registry: EntityRegistry,
    /** Authority sequence per network id, sent with each OwnershipGrant. */
    private readonly authoritySeq: ReadonlyMap<number, number>,
  ) {}

  /** Sends `p`'s queued ops of send tick `tick` on its reliable lane and empties the queue. */
  send(p: PeerReplication, tick: number): void {
    const ops = p.ops;
    if (ops.length === 0) return;
    const conn = p.peer.connection;
    const w = this.writer;
    let i = 0;
    while (i < ops.length) {
      const op = ops[i];
      let j = i;
      while (j < ops.length && ops[j] === op) j += 3;
      // One message per run of equal ops, split so a message stays within a snapshot chunk.
      let k = i;
      while (k < j) {
        k = this.writeRun(w, ops, op, k, j, tick);
        p.lastStructuralId = conn.sendReliable(w.toBytes());
      }
      i = j;
    }
    ops.length = 0;
  }

  /** Writes ops[from..to) of one kind into `w` (as many as fit a chunk); returns where it stopped. */
  private writeRun(w: BitWriter, ops: number[], op: number, from: number, to: number, tick: number): number {
    const reg = this.registry;
    switch (op) {
      case Op.Spawn: {
        beginMessage(w, Tag.Spawn);
        w.writeVarUint(tick);
        // Entities that are gone again were already despawned and are skipped.
        let n = 0;
        let end = from;
        let bits = 0;
        while (end < to && bits < SNAPSHOT_CHUNK_BYTES * 8) {
          const eid = reg.toLocal(ops[end + 1]);
          if (eid !== 0) {
            n++;
            bits += SPAWN_ENTITY_BITS + this.comps.length * SPAWN_COMPONENT_BITS;
          }
          end += 3;
        }
        w.writeVarUint(n);
        for (let i = from; i < end; i += 3) {
          const eid = reg.toLocal(ops[i + 1]);
          if (eid !== 0) writeFullEntity(w, this.scratch, this.comps, this.shadow, reg, eid);
        }
        return end;
      }
      case Op.Despawn: {
        beginMessage(w, Tag.Despawn);
        const end = Math.min(to, from + 3 * MAX_DESPAWNS_PER_MESSAGE);
        w.writeVarUint((end - from) / 3);
        for (let i = from; i < end; i += 3) {
          w.writeVarUint(ops[i + 1]);
          w.writeBits(ops[i + 2], 1);
        }
        return end;
      }
      case Op.ComponentAdd: {
        const eid = reg.toLocal(ops[from + 1]);
        beginMessage(w, Tag.ComponentAdd);
        w.writeVarUint(tick);
        writeFullEntity(w, this.scratch, this.comps, this.shadow, reg, eid, ops[from + 2]);
        return from + 3;
      }
      case Op.ComponentRemove:
        beginMessage(w, Tag.ComponentRemove);
        w.writeVarUint(ops[from + 1]);
        w.writeVarUint(ops[from + 2]);
        return from + 3;
      default:
        beginMessage(w, Tag.OwnershipGrant);
        w.writeVarUint(ops[from + 1]);
        w.writeVarUint(ops[from + 2]);
        w.writeVarUint(this.authoritySeq.get(ops[from + 1]) ?? 0);
        return from + 3;
    }
  }
}
