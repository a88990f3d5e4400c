/** Reused scratch buffers shared by Delta packing (delta-writer.ts) and reading (delta-reader.ts). */
import type { RegisteredComponent } from '../register.ts';
import { type BlockKernel, compileBlockKernel } from './block-kernel.ts';
import { ShortStringCodec } from '../codec/short-string.ts';
import { fieldOffsets, type StringScratch } from './entity-block.ts';

/** Reused buffers for packing and reading entity blocks. */
export interface PackScratch {
  present: Uint8Array;
  masks: Uint32Array;
  values: Float64Array;
  offsets: Uint16Array;
  quat: Float64Array;
  selected: Float64Array;
  selectedEids: Int32Array;
  owner: number;
  /** Short strings read from a block, at the same index as their hash in `values`. */
  text: StringScratch;
  /** The protocol's generated Delta block writer (block-kernel.ts), or null: the generic one. */
  kernel: BlockKernel | null;
}

/** Allocates the scratch for a protocol's components. */
export function createPackScratch(comps: readonly RegisteredComponent[]): PackScratch {
  const { offsets, total } = fieldOffsets(comps);
  return {
    present: new Uint8Array(comps.length),
    masks: new Uint32Array(comps.length),
    values: new Float64Array(Math.max(1, total)),
    offsets,
    quat: new Float64Array(4),
    selected: new Float64Array(256),
    selectedEids: new Int32Array(256),
    owner: 0,
    text: { codec: new ShortStringCodec(), strings: new Array<string>(Math.max(1, total)).fill('') },
    kernel: compileBlockKernel(comps),
  };
}
