/**
 * Counts the inputs that reach a decoder, so a fuzz test can show its messages were decoded rather than dropped
 * early (e.g. after its sender was disconnected). Wraps a method of a live object, private ones too (they are
 * called through `this`), and counts calls per key.
 */

/** Calls of `method` on `target` per `key(args)`, from now on; `total` sums them. */
export interface Tap {
  readonly counts: Map<number | string, number>;
  total(): number;
  get(key: number | string): number;
}

/** Wraps `target[method]` to count its calls by `key(...args)` (the method still runs). */
export function tap(target: object, method: string, key: (args: unknown[]) => number | string = () => 0): Tap {
  const obj = target as Record<string, unknown>;
  const original = obj[method];
  if (typeof original !== 'function') throw new Error(`${method} is not a method of the tapped object`);
  const counts = new Map<number | string, number>();
  obj[method] = function (this: unknown, ...args: unknown[]) {
    const k = key(args);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    get: (k) => counts.get(k) ?? 0,
  };
}
