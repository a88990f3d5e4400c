/**
 * Replicated storage that ecsync allocates: a component's columns AND the raw copies the change scan compares them
 * with, in ONE buffer (a `WebAssembly.Memory` where WebAssembly SIMD is available, else an `ArrayBuffer`). The user
 * gets back an object of typed arrays indexed by entity id, exactly like a bitecs SoA component, and writes it the
 * same way (`Pose.px[eid] = 1`). Registered with `registerComponent`, it takes the fastest change scan
 * (owned-scan.ts): a hand-assembled WebAssembly SIMD kernel, or one JS loop over a single Float64 view.
 *
 * Layout (byte offsets, `stride` = bytes of one column region, a multiple of 16 that is never a multiple of 4,096:
 * strides on page boundaries alias in the caches, ~1.5x slower, see FINDINGS):
 *   column c        at c * stride                 (c = 0 .. columns-1, in schema key order)
 *   copy of c       at (columns + c) * stride
 *   id list         at 2 * columns * stride       (the SIMD scan's output: one i32 per entity)
 * Capacity is fixed at creation (bitecs components are sized to the world's entity limit too); pages the world
 * never touches cost no memory (the OS commits them on first write), and the scan covers only the entity ids the
 * replicator knows, not the whole capacity.
 */
import { usageError } from '../errors.ts';

/** Element type of one column of a replicated store: 4-byte lanes, so the SIMD scan compares them bit-exact. */
export type ReplicatedColumnType = 'f32' | 'i32' | 'u32';

/** The typed array of a column type. */
export type ReplicatedColumn<T extends ReplicatedColumnType> = T extends 'f32'
  ? Float32Array
  : T extends 'i32'
    ? Int32Array
    : Uint32Array;

/** A store made by `createReplicatedStore`: one typed array per schema key, indexed by entity id. */
export type ReplicatedStore<S extends Readonly<Record<string, ReplicatedColumnType>>> = {
  readonly [K in keyof S]: ReplicatedColumn<S[K]>;
};

/** Options of `createReplicatedStore`. */
export interface ReplicatedStoreOptions {
  /** Entity ids 0 .. capacity-1 fit (bitecs ids start at 1: pass your entity limit + 1). */
  readonly capacity: number;
  /**
   * Use WebAssembly (the SIMD scan) where the platform has it: default true. False forces the JS scan over the
   * same one-buffer layout (e.g. under a Content Security Policy without `wasm-unsafe-eval`).
   */
  readonly wasm?: boolean;
}

/** Most columns of one store (a quaternion takes four; 32 fields of a component is the registration limit). */
export const MAX_REPLICATED_COLUMNS = 64;

/** Largest buffer of one store (columns, copies and id list): 1 GiB, far past any room, well inside wasm32. */
export const MAX_REPLICATED_STORE_BYTES = 2 ** 30;

/** Bytes of a WebAssembly page. */
const WASM_PAGE_BYTES = 65_536;

/**
 * A `WebAssembly.Memory` as the store keeps it: typed by its shape, because a consumer's TypeScript may be set up
 * without the WebAssembly declarations (e.g. `lib: ["ES2022"]` and no DOM).
 */
export interface WasmMemoryLike {
  /** The memory's bytes (fixed: the store's memory never grows). */
  readonly buffer: ArrayBuffer;
}

/** What the change scan needs to know of an owned store (internal). */
export interface StoreLayout {
  readonly buffer: ArrayBuffer;
  /** The memory the buffer belongs to, or null when the store is a plain ArrayBuffer (no WebAssembly). */
  readonly memory: WasmMemoryLike | null;
  /** Pages of `memory` (0 without one). */
  readonly pages: number;
  readonly columns: number;
  readonly capacity: number;
  /** Bytes of one column region. */
  readonly stride: number;
  /** Byte offset of the id list the SIMD scan writes. */
  readonly listBase: number;
  /** The scanner whose kernel owns the copies now (the latest to claim them), or null. */
  claim: object | null;
}

/** A column array of an owned store, with its store and index. */
interface ColumnInfo {
  readonly layout: StoreLayout;
  readonly index: number;
}

const columnsOf = new WeakMap<object, ColumnInfo>();
const layoutsOf = new WeakMap<object, StoreLayout>();

/** The probe every WebAssembly use asks first: is there a WebAssembly with v128 (SIMD)? */
function hasWebAssembly(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly !== null && typeof WebAssembly.Memory === 'function';
}

/** Bytes of one column region for `capacity` entities: rounded to 16, moved off page multiples by a cache line. */
export function columnStride(capacity: number): number {
  const bytes = Math.ceil((capacity * 4) / 16) * 16;
  return bytes % 4096 === 0 ? bytes + 64 : bytes;
}

/**
 * Allocates a replicated component whose columns and raw copies live in one buffer that ecsync owns: the fastest
 * change scan (WebAssembly SIMD where available). Use the result like a bitecs SoA component and register it with
 * `registerComponent`; user-owned typed arrays keep working as before. Throws a `NetError` (Usage) for a bad schema
 * or a capacity whose buffer would pass `MAX_REPLICATED_STORE_BYTES`.
 * @example
 * const Pose = createReplicatedStore({ px: 'f32', py: 'f32', pz: 'f32', qx: 'f32', qy: 'f32', qz: 'f32', qw: 'f32' },
 *   { capacity: 10_001 });
 * registerComponent(protocol, Pose, { name: 'Pose', fields: { px: field.quantized(-32, 32, 0.001), ... } });
 * Pose.px[eid] = 1.5;
 */
export function createReplicatedStore<const S extends Readonly<Record<string, ReplicatedColumnType>>>(
  schema: S,
  options: ReplicatedStoreOptions,
): ReplicatedStore<S> {
  const keys = Object.keys(schema);
  const { capacity } = options;
  if (keys.length < 1 || keys.length > MAX_REPLICATED_COLUMNS)
    usageError(
      `a replicated store has ${keys.length} columns`,
      `pass between 1 and ${MAX_REPLICATED_COLUMNS} columns, e.g. { px: 'f32', py: 'f32' }`,
    );
  for (const k of keys) {
    const t = schema[k] as unknown;
    if (t !== 'f32' && t !== 'i32' && t !== 'u32')
      usageError(`replicated store column '${k}' has type ${String(t)}`, "use 'f32', 'i32' or 'u32'");
  }
  if (!Number.isInteger(capacity) || capacity < 1)
    usageError(
      `replicated store capacity ${capacity} is not a positive whole number`,
      'pass e.g. { capacity: 10_001 }',
    );
  const stride = columnStride(capacity);
  const listBase = 2 * keys.length * stride;
  const bytes = listBase + Math.ceil(capacity / 4) * 16;
  if (bytes > MAX_REPLICATED_STORE_BYTES)
    usageError(
      `a replicated store of ${keys.length} columns x ${capacity} entities needs ${bytes} bytes`,
      `keep columns x capacity under ${Math.floor(MAX_REPLICATED_STORE_BYTES / 8)} (split the component or lower the capacity)`,
    );
  let memory: WasmMemoryLike | null = null;
  let pages = 0;
  if (options.wasm !== false && hasWebAssembly()) {
    pages = Math.ceil(bytes / WASM_PAGE_BYTES);
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch {
      memory = null; // no memory of that size here: the JS scan over an ArrayBuffer
      pages = 0;
    }
  }
  const buffer = memory !== null ? memory.buffer : new ArrayBuffer(bytes);
  const layout: StoreLayout = { buffer, memory, pages, columns: keys.length, capacity, stride, listBase, claim: null };
  const store: Record<string, Float32Array | Int32Array | Uint32Array> = {};
  keys.forEach((k, index) => {
    const type = schema[k];
    const Ctor = type === 'f32' ? Float32Array : type === 'i32' ? Int32Array : Uint32Array;
    const column = new Ctor(buffer, index * stride, capacity);
    columnsOf.set(column, { layout, index });
    // defineProperty: a key such as '__proto__' becomes a plain property, not the object's prototype.
    Object.defineProperty(store, k, { value: column, enumerable: true, writable: false, configurable: false });
  });
  layoutsOf.set(store, layout);
  return store as unknown as ReplicatedStore<S>;
}

/** What `replicatedStoreInfo` reports of a store made by `createReplicatedStore`. */
export interface ReplicatedStoreInfo {
  /** Entity ids 0 .. capacity-1 fit. */
  readonly capacity: number;
  /** Number of columns. */
  readonly columns: number;
  /** Bytes of one column region (never a multiple of 4,096). */
  readonly strideBytes: number;
  /** Bytes of the whole buffer (columns, copies, id list). */
  readonly bytes: number;
  /** True when the buffer is a `WebAssembly.Memory` (the SIMD scan runs where the platform validates it). */
  readonly wasmMemory: boolean;
}

/** Layout facts of a store made by `createReplicatedStore`, or null for any other object (user-owned arrays). */
export function replicatedStoreInfo(store: object): ReplicatedStoreInfo | null {
  const l = layoutsOf.get(store);
  if (l === undefined) return null;
  return {
    capacity: l.capacity,
    columns: l.columns,
    strideBytes: l.stride,
    bytes: l.buffer.byteLength,
    wasmMemory: l.memory !== null,
  };
}

/**
 * The store and column indices of `arrays` when every one is a distinct column of the same owned store, else
 * null (internal: the raw scanner picks its kernel with it).
 */
export function ownedColumnsOf(arrays: readonly unknown[]): { layout: StoreLayout; indices: number[] } | null {
  if (arrays.length === 0) return null;
  let layout: StoreLayout | null = null;
  const indices: number[] = [];
  for (const a of arrays) {
    const info = typeof a === 'object' && a !== null ? columnsOf.get(a) : undefined;
    if (info === undefined || (layout !== null && info.layout !== layout)) return null;
    if (indices.includes(info.index)) return null;
    layout = info.layout;
    indices.push(info.index);
  }
  return layout === null ? null : { layout, indices };
}
