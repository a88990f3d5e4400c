/** Time source in milliseconds. Real peers use `performance.now()`; tests use a manual clock and never sleep. */
export interface Clock {
  /** The current time, in milliseconds. */
  now(): number;
}

/** The wall clock of this process (`performance.now()`), for real peers. */
export const systemClock: Clock = { now: () => performance.now() };

/** A clock that moves only when told to, so tests are deterministic and never sleep. */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Sets the clock to `ms` milliseconds. */
  set(ms: number): void;
}

/** Creates a manual clock starting at `startMs`. */
export function createManualClock(startMs = 0): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}
