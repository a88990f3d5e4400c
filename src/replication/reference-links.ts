/**
 * The client's entity references kept pointing at the right local entities: a reference to an entity not here
 * waits (bounded, see pending-references.ts) and resolves when that entity arrives; a reference to an entity just
 * destroyed here is set to 0 before its local id can be recycled, and waits for its target to come back (the
 * received network id stays in the shadow).
 */
import { type ErrorHandler, NetError } from '../errors.ts';
import type { CompiledField } from './compiled-field.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { PendingReferences } from './pending-references.ts';
import type { ShadowStore } from './shadow-store.ts';

/** Resolves and unlinks the entity references of one client world. */
export class ReferenceLinks {
  /** Entities destroyed by the message being handled: references to them are unlinked before ids recycle. */
  private readonly destroyed: number[] = [];

  constructor(
    private readonly pending: PendingReferences,
    private readonly reg: EntityRegistry,
    private readonly shadow: ShadowStore,
    private readonly onError: ErrorHandler | undefined,
  ) {}

  /** Field `f` of `eid` names `netId`, not here: it holds 0 until that entity arrives (bounded, counted). */
  pend(eid: number, f: CompiledField, netId: number): void {
    if (this.pending.add(eid, f, netId)) return;
    // Reported on the first refusal and then every 1,024th, so a flood does not flood onError.
    if ((this.pending.dropped - 1) % 1024 === 0)
      this.onError?.(
        new NetError('Oversize', `more than ${this.pending.max} references wait for entities not here; refused`),
      );
  }

  /** Points references that named `netId` before it arrived (or came back) at its new local entity. */
  resolve(netId: number, target: number): void {
    const { reg, shadow } = this;
    this.pending.take(netId, (eid, f) => {
      // Only if the field still names that entity (a newer value may have replaced it meanwhile).
      if (reg.isReplicated(eid) && reg.has[f.component][eid] && shadow.wire[f.component][f.index][eid] === netId)
        f.array[eid] = target;
    });
  }

  /** `eid` is being destroyed: its own waiting references go, and references to it are unlinked at `unlink()`. */
  destroying(eid: number): void {
    this.pending.forgetHolder(eid);
    this.destroyed.push(eid);
  }

  /** Unlinks the references to the entities destroyed since the last call. */
  unlink(): void {
    const gone = this.destroyed;
    if (gone.length === 0) return;
    if (this.pending.active) {
      const set = new Set(gone);
      const reg = this.reg;
      for (let i = 0; i < reg.count; i++) {
        const eid = reg.list[i];
        for (const f of this.pending.referenceFields) {
          const local = f.array[eid];
          if (local === 0 || !reg.has[f.component][eid] || !set.has(local)) continue;
          f.array[eid] = 0;
          const netId = this.shadow.wire[f.component][f.index][eid];
          if (netId > 0) this.pend(eid, f, netId);
        }
      }
    }
    gone.length = 0;
  }
}
