/** Whether a value returned by a user callback is a promise (or any thenable) to wait for, rather than a result. */
export function isThenable<T = unknown>(v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
