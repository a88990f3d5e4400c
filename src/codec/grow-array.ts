/**
 * Growth of the per-entity typed arrays: one rule (double until the index fits) and one copy, so every store grows
 * the same way.
 */

/** The typed arrays the stores grow. */
export type GrowableArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** `current` doubled (at least once, and from at least 1) until `index` fits below it. */
export function capacityFor(current: number, index: number): number {
  let cap = Math.max(1, current);
  while (cap <= index) cap *= 2;
  return cap;
}

/** `a` itself when it holds `length` elements, else a copy of it of the same type with `length` (the rest zero). */
export function grown<T extends GrowableArray>(a: T, length: number): T {
  if (a.length >= length) return a;
  const next = new (a.constructor as new (n: number) => T)(length);
  next.set(a);
  return next;
}
