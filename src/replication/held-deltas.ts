/**
 * Deltas that arrived before the reliable message they depend on (their `dependsOn` id): held as copies, in
 * arrival order, until that message is delivered. Bounded: past MAX_HELD_DELTAS the oldest is dropped and counted
 * (its fields are resent anyway, since the server never saw an ack for them arrive in order).
 */

/** Deltas held for a reliable message not yet arrived; past this the oldest is dropped (and reported). */
export const MAX_HELD_DELTAS = 4096;

/** The held deltas of one client. */
export class HeldDeltas {
  private held: Uint8Array[] = [];
  /** Deltas held so far, and those dropped by the bound. */
  heldTotal = 0;
  dropped = 0;

  constructor(readonly max = MAX_HELD_DELTAS) {}

  /** Deltas held now. */
  get size(): number {
    return this.held.length;
  }

  /** Holds a copy of `msg`; false when the oldest had to be dropped to make room. */
  hold(msg: Uint8Array): boolean {
    let kept = true;
    if (this.held.length >= this.max) {
      this.held.shift();
      this.dropped++;
      kept = false;
    }
    this.held.push(msg.slice());
    this.heldTotal++;
    return kept;
  }

  /** Offers each held delta, oldest first, to `apply`; those it takes (returns true for) are released. */
  release(apply: (msg: Uint8Array) => boolean): void {
    if (this.held.length === 0) return;
    const keep: Uint8Array[] = [];
    for (const msg of this.held) if (!apply(msg)) keep.push(msg);
    this.held = keep;
  }

  /** Hands over everything held, oldest first, and holds nothing after. */
  take(): Uint8Array[] {
    const all = this.held;
    this.held = [];
    return all;
  }

  /** Drops everything held (a new connection: what they wait for will never come). */
  clear(): void {
    this.held = [];
  }
}
