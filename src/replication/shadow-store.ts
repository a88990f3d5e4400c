/**
 * Per-entity wire values of every registered field: the shadow copy change detection compares against, and the
 * source of the values a delta or snapshot writes. Indexed by local entity id; grows by doubling. A short-string
 * field keeps, besides its hash as the wire value, the last valid string and its UTF-8 bytes (what blocks
 * write), and the raw value last seen, so a refused write is reported once, not every tick.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { RegisteredComponent } from '../register.ts';
import { quantize } from '../codec/quantize.ts';
import { createQuatScratch, detectQuatChanges } from '../codec/quaternion-fast.ts';
import { ShortStringCodec, shortStringHash, utf8ByteLength } from '../codec/short-string.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import { type CompiledKernel, compileDetectKernels } from './detect-kernel.ts';
import {
  type CompiledField,
  type EntityMapper,
  type NumericArray,
  readWireValue,
  wireDiffers,
} from './compiled-field.ts';

const EMPTY_UTF8 = new Uint8Array(0);

/** Told of a local short-string write that is not replicated (not a string, or too long), with the reason. */
export type InvalidStringHandler = (field: CompiledField, eid: number, reason: string) => void;

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
  /** text[c][f][eid]: last valid string of a short-string field (unset reads as ''); [] for other fields. */
  readonly text: string[][][];
  /** utf8[c][f][eid]: UTF-8 bytes of `text`, written by entity blocks without encoding again. */
  readonly utf8: Uint8Array[][][];
  /** seen[c][f][eid]: raw column value at the last detection, valid or not. */
  private readonly seen: unknown[][][];
  /** Local short-string writes refused since creation (not a string, or longer than the field's maxBytes). */
  invalidStrings = 0;
  /** Told of each refused short-string write; the replicator reports it through onError. */
  onInvalidString: InvalidStringHandler | null = null;
  private readonly codec = new ShortStringCodec();
  /** Working space of the branchless quaternion packing in `detectMany`. */
  private readonly quatScratch = createQuatScratch();
  /** Generated detection kernel per component (null: the generic loops of `detectMany`). */
  readonly kernels: readonly (CompiledKernel | null)[];

  constructor(components: readonly RegisteredComponent[], mapper: EntityMapper, capacity = INITIAL_ENTITY_CAPACITY) {
    this.components = components;
    this.mapper = mapper;
    this.wire = components.map((c) => c.fields.map(() => new Float64Array(0)));
    this.tick = components.map((c) => c.fields.map(() => new Uint32Array(0)));
    this.sources = components.map((c) => c.fields.flatMap((f) => (f.quat ? [...f.quat] : [f.array])));
    this.text = components.map((c) => c.fields.map(() => []));
    this.utf8 = components.map((c) => c.fields.map(() => []));
    this.seen = components.map((c) => c.fields.map(() => []));
    this.kernels = compileDetectKernels(components);
    this.grow(capacity);
  }

  /** UTF-8 bytes a block writes for short-string field `f` of component `c` of `eid`. */
  bytesOf(c: number, f: number, eid: number): Uint8Array {
    return this.utf8[c][f][eid] ?? EMPTY_UTF8;
  }

  /**
   * Reads short-string field `f` of component `c` of `eid` from its column: true when its valid value changed
   * (text, bytes and hash updated). A value that is not a string or exceeds maxBytes is refused: counted,
   * reported once, and the last valid value stays what replicates.
   */
  private detectString(c: number, f: number, eid: number): boolean {
    const fd = this.components[c].fields[f];
    const raw = fd.strings![eid] as unknown;
    const seen = this.seen[c][f];
    if (raw === seen[eid]) return false;
    seen[eid] = raw;
    const s = typeof raw === 'string' ? raw : raw === undefined ? '' : null;
    if (s === null || utf8ByteLength(s) > fd.maxBytes) {
      this.invalidStrings++;
      const why = s === null ? `holds a ${typeof raw}, not a string` : `has ${utf8ByteLength(s)} UTF-8 bytes`;
      this.onInvalidString?.(fd, eid, `${why}; its maxBytes is ${fd.maxBytes}`);
      return false;
    }
    if (s === (this.text[c][f][eid] ?? '')) return false;
    this.text[c][f][eid] = s;
    this.utf8[c][f][eid] = this.codec.encode(s, fd.maxBytes)!;
    this.wire[c][f][eid] = shortStringHash(s);
    return true;
  }

  /**
   * Takes the (validated) string just applied to short-string field `f` of component `c` of `eid` as detected,
   * so an owner does not send back a value the server gave it (an OwnerCorrection).
   */
  adoptString(c: number, f: number, eid: number): void {
    this.seen[c][f][eid] = undefined;
    this.detectString(c, f, eid);
  }

  /** Forgets short-string field `f` of component `c` of `eid`: '' and nothing seen. */
  private clearString(c: number, f: number, eid: number): void {
    this.text[c][f][eid] = '';
    this.utf8[c][f][eid] = EMPTY_UTF8;
    this.seen[c][f][eid] = undefined;
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
    for (let f = 0; f < fields.length; f++) {
      if (fields[f].strings !== null) {
        this.clearString(c, f, eid);
        wires[f][eid] = 0;
        this.detectString(c, f, eid);
      } else wires[f][eid] = readWireValue(fields[f], eid, this.mapper);
    }
  }

  /** Forgets component `c` of `eid` (zeroes values and ticks) so a recycled entity id starts clean. */
  clear(c: number, eid: number): void {
    if (eid >= this.capacity) return;
    const wires = this.wire[c];
    const ticks = this.tick[c];
    const fields = this.components[c].fields;
    for (let f = 0; f < wires.length; f++) {
      wires[f][eid] = 0;
      ticks[f][eid] = 0;
      if (fields[f].strings !== null) this.clearString(c, f, eid);
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
      if (fields[f].strings !== null) {
        if (this.detectString(c, f, eid)) mask |= 1 << f;
        continue;
      }
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
    const kernel = this.kernels[c];
    if (kernel !== null) {
      kernel.detect(eids, count, masks, this.wire[c]);
      return;
    }
    this.detectGeneric(c, eids, count, masks);
  }

  /** `detectMany` without the generated kernel: one loop per field (also the reference the kernels are tested on). */
  detectGeneric(c: number, eids: Int32Array, count: number, masks: Uint32Array): void {
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
        detectQuatChanges(this.quatScratch, qx, qy, qz, qw, fd.quatBits, eids, count, shadow, masks, bit);
      } else if (fd.strings !== null) {
        for (let i = 0; i < count; i++) if (this.detectString(c, f, eids[i])) masks[i] |= bit;
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
