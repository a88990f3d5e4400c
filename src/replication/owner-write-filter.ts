/**
 * The Delta path into the write gate: each component an owner writes is checked (non-finite floats, then the
 * component's rules) before it is applied; what the gate refused or clamped is remembered per client, and at the
 * next send the owner gets the server's values of those components in one `OwnerCorrection` (body as Spawn: tick,
 * count, full-entity records carrying only the corrected components), which it applies although it owns them.
 */
import type { Clock } from '../clock.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import type { Connection } from '../connection/connection.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import type { PackScratch, WriteFilter } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { writeEntityBlock } from './entity-block.ts';
import type { ShadowStore } from './shadow-store.ts';
import { beginMessage } from './wire-bodies.ts';
import { WriteVerdict, type WriteGate } from './write-gate.ts';

/**
 * Corrections waiting per client: (entity, component) pairs. A Delta holds far fewer than 256 entity components
 * in practice; beyond this a client is flooding refused writes, and its OwnerHash check resyncs the rest.
 */
export const MAX_PENDING_CORRECTIONS = 256;

/** The gate's hook on owner Deltas, and the corrections it owes each client. */
export class OwnerWriteFilter implements WriteFilter {
  /** Client whose Delta is being applied. */
  writer = 0;
  /** Component writes refused and clamped in the current Delta. */
  refused = 0;
  clamped = 0;
  private readonly pending = new Map<number, number[]>();

  constructor(
    private readonly gate: WriteGate,
    private readonly registry: EntityRegistry,
    private readonly clock: Clock,
  ) {}

  /** Starts a Delta from `clientId`. */
  begin(clientId: number): void {
    this.writer = clientId;
    this.refused = 0;
    this.clamped = 0;
  }

  admit(eid: number, c: number, mask: number, values: Float64Array, base: number, strings: readonly string[]): boolean {
    const gate = this.gate;
    if (gate.hasNonFinite(c, mask, values, base)) {
      gate.refuseNonFinite();
      this.refused++;
      this.correct(eid, c);
      return false;
    }
    if (!gate.hasRules(c)) return true;
    const now = this.clock.now();
    const check = gate.stageWire('delta', this.writer, eid, c, mask, values, base, this.registry, now, strings);
    const verdict = gate.run(check);
    if (verdict === WriteVerdict.refused) {
      this.refused++;
      this.correct(eid, c);
      return false;
    }
    if (verdict === WriteVerdict.clamped) {
      gate.toWire(check, values, base, this.registry);
      this.clamped++;
      this.correct(eid, c);
    }
    gate.accepted(check, now);
    return true;
  }

  /** Owes `writer` the server's value of component `c` of `eid`. */
  private correct(eid: number, c: number): void {
    let q = this.pending.get(this.writer);
    if (!q) this.pending.set(this.writer, (q = []));
    for (let i = 0; i < q.length; i += 2) if (q[i] === eid && q[i + 1] === c) return;
    if (q.length >= MAX_PENDING_CORRECTIONS * 2) {
      this.gate.counters.droppedCorrections++;
      return;
    }
    q.push(eid, c);
  }

  /** Sends `clientId` what it is owed (values from the shadow, current after change detection). */
  flush(
    clientId: number,
    conn: Connection,
    tick: number,
    w: BitWriter,
    s: PackScratch,
    comps: readonly RegisteredComponent[],
    shadow: ShadowStore,
  ): void {
    const q = this.pending.get(clientId);
    if (!q) return;
    this.pending.delete(clientId);
    const reg = this.registry;
    let n = 0;
    for (let i = 0; i < q.length; i += 2) if (reg.isReplicated(q[i]) && reg.has[q[i + 1]][q[i]] !== 0) n++;
    if (n === 0) return;
    beginMessage(w, Tag.OwnerCorrection);
    w.writeVarUint(tick);
    w.writeVarUint(n);
    for (let i = 0; i < q.length; i += 2) {
      const eid = q[i];
      const c = q[i + 1];
      if (!reg.isReplicated(eid) || reg.has[c][eid] === 0) continue;
      w.writeVarUint(reg.netIdOf[eid]);
      w.writeVarUint(reg.owner[eid]);
      for (let k = 0; k < comps.length; k++) {
        s.present[k] = k === c ? 1 : 0;
        s.masks[k] = k === c ? comps[k].allFieldsMask : 0;
      }
      writeEntityBlock(w, comps, s.present, s.masks, shadow, eid);
    }
    conn.sendReliable(w.toBytes());
  }

  /** A client left: nothing is owed to it any more. */
  forget(clientId: number): void {
    this.pending.delete(clientId);
  }
}
