/**
 * Lamport clocks: every authority event (an ownership request, a command) carries a stamp (counter, clientId).
 * Stamps order events the same way on every peer: by counter, then by client id (the tie-break), so two requests
 * made "at the same time" are decided identically everywhere without asking anyone.
 */

/**
 * Largest jump a peer accepts between its own counter and a received one. Honest peers advance by one per event
 * (thousands per session); a counter far beyond this is a hostile attempt to win every future tie or to push
 * counters past 2^53, and is refused.
 */
export const MAX_LAMPORT_SKEW = 1_000_000;

/** A Lamport timestamp: `counter` first, `clientId` breaks ties (0 = the server). */
export interface LamportStamp {
  readonly counter: number;
  readonly clientId: number;
}

/** Negative when stamp a comes first, positive when b does, 0 when equal; a total order on stamps. */
export function compareStamps(aCounter: number, aClient: number, bCounter: number, bClient: number): number {
  return aCounter !== bCounter ? aCounter - bCounter : aClient - bClient;
}

/** Orders stamped items in place by (counter, clientId), the same way on every peer. */
export function sortByStamp<T extends LamportStamp>(items: T[]): T[] {
  return items.sort((a, b) => compareStamps(a.counter, a.clientId, b.counter, b.clientId));
}

/** One peer's Lamport clock. */
export class LamportClock {
  /** The last counter this peer issued or saw. */
  counter = 0;

  /** Counter of a new local event (one past everything seen so far). */
  tick(): number {
    return ++this.counter;
  }

  /** Takes a received counter into account; returns false (and ignores it) when it is not a plausible counter. */
  observe(counter: number): boolean {
    if (!isPlausibleCounter(counter, this.counter)) return false;
    if (counter > this.counter) this.counter = counter;
    return true;
  }
}

/** True when `counter` is a safe non-negative integer no more than MAX_LAMPORT_SKEW ahead of `local`. */
export function isPlausibleCounter(counter: number, local: number): boolean {
  return Number.isSafeInteger(counter) && counter >= 0 && counter <= local + MAX_LAMPORT_SKEW;
}
