/**
 * Per-entity wire values of every registered field: the shadow copy change detection compares against, and the
 * source of the values a delta or snapshot writes. Indexed by local entity id; grows by doubling.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { RegisteredComponent } from '../register.ts';
import { quantize } from '../codec/quantize.ts';
import { packQuat } from '../codec/quaternion.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import { type EntityMapper, type NumericArray, readWireValue, wireDiffers } from './compiled-field.ts';

/** Initial entity capacity; arrays double past it, so the first growth happens at 1,024 entities. */
export const INITIAL_ENTITY_CAPACITY = 1024;

/** Wire-value shadows for every registered field, plus per-field receive ticks for ordering. */
export class ShadowStore {
  readonly components: readonly RegisteredComponent[];
  capacity = 0;
  /** wire[c][f][eid]: last detected (sender) or applied (receiver) wire value. */
  wire: Float64Array[][];
  /** tick[c][f][eid]: tick of the value last applied from the network (receiver side ordering). */
  tick: Uint32Array[][];
  /** sources[c]: every component array the fields of c read (a quaternion reads four). */
  readonly sources: NumericArray[][];

  /** Maps entity references to network ids when reading wire values. */
  readonly mapper: EntityMapper;

  constructor(components: readonly RegisteredComponent[], mapper: EntityMapper, capacity = INITIAL_ENTITY_CAPACITY) {
    this.components = components;
    this.mapper = mapper;
    this.wire = components.map((c) => c.fields.map(() => new Float64Array(0)));
    this.tick = components.map((c) => c.fields.map(() => new Uint32Array(0)));
    this.sources = components.map((c) => c.fields.flatMap((f) => (f.quat ? [...f.quat] : [f.array])));
    this.grow(capacity);
  }

  /** Makes sure `eid` fits. */
  ensure(eid: number): void {
    if (eid >= this.capacity) {
      this.grow(capacityFor(this.capacity, eid));
    }
  }

  private grow(cap: number): void {
    for (let c = 0; c < this.components.length; c++) {
      const wires = this.wire[c];
      const ticks = this.tick[c];
      for (let f = 0; f < wires.length; f++) {
        wires[f] = grown(wires[f], cap);
        ticks[f] = grown(ticks[f], cap);
      }
    }
    this.capacity = cap;
  }

  /** Captures the current wire values of component `c` of `eid` (on spawn or component add). */
  capture(c: number, eid: number): void {
    this.ensure(eid);
    const fields = this.components[c].fields;
    const wires = this.wire[c];
    for (let f = 0; f < fields.length; f++) wires[f][eid] = readWireValue(fields[f], eid, this.mapper);
  }

  /** Forgets component `c` of `eid` (zeroes values and ticks) so a recycled entity id starts clean. */
  clear(c: number, eid: number): void {
    if (eid >= this.capacity) return;
    const wires = this.wire[c];
    const ticks = this.tick[c];
    for (let f = 0; f < wires.length; f++) {
      wires[f][eid] = 0;
      ticks[f][eid] = 0;
    }
  }

  /**
   * Compares component `c` of `eid` with its shadow, updates the shadow and returns the mask of changed fields.
   * Values are compared in wire form, so drift below the precision accumulates in the component until it shows.
   */
  detect(c: number, eid: number): number {
    const fields = this.components[c].fields;
    const wires = this.wire[c];
    let mask = 0;
    for (let f = 0; f < fields.length; f++) {
      const v = readWireValue(fields[f], eid, this.mapper);
      const shadow = wires[f];
      if (wireDiffers(v, shadow[eid])) {
        shadow[eid] = v;
        mask |= 1 << f;
      }
    }
    return mask;
  }

  /**
   * `detect` for many entities at once, field by field: `masks[i]` gets the changed fields of `eids[i]`. Each
   * field runs its own loop, so its array access and quantization stay monomorphic and inline.
   */
  detectMany(c: number, eids: Int32Array, count: number, masks: Uint32Array): void {
    masks.fill(0, 0, count);
    const fields = this.components[c].fields;
    const wires = this.wire[c];
    for (let f = 0; f < fields.length; f++) {
      const fd = fields[f];
      const shadow = wires[f];
      const bit = 1 << f;
      if (fd.kind === FieldKind.quantized) {
        const a = fd.array;
        const min = fd.min;
        const max = fd.max;
        const p = fd.precision;
        for (let i = 0; i < count; i++) {
          const eid = eids[i];
          const v = quantize(a[eid], min, max, p);
          if (v !== shadow[eid]) {
            shadow[eid] = v;
            masks[i] |= bit;
          }
        }
      } else if (fd.kind === FieldKind.quat) {
        const [qx, qy, qz, qw] = fd.quat!;
        const bits = fd.quatBits;
        for (let i = 0; i < count; i++) {
          const eid = eids[i];
          const v = packQuat(qx[eid], qy[eid], qz[eid], qw[eid], bits);
          if (v !== shadow[eid]) {
            shadow[eid] = v;
            masks[i] |= bit;
          }
        }
      } else {
        for (let i = 0; i < count; i++) {
          const eid = eids[i];
          const v = readWireValue(fd, eid, this.mapper);
          if (wireDiffers(v, shadow[eid])) {
            shadow[eid] = v;
            masks[i] |= bit;
          }
        }
      }
    }
  }
}
