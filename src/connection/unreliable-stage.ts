/** Unreliable messages queued for the next flushed packet, framed into one reused buffer of the packet budget. */
import { varUintSize } from '../codec/varint.ts';
import { unreliableEntryBytes, writeUnreliableEntry } from './packet-entries.ts';

/** The unreliable entries of the next packet. */
export class UnreliableStage {
  private readonly budget: number;
  private readonly buf: Uint8Array;
  private used = 0;

  constructor(budget: number) {
    this.budget = budget;
    this.buf = new Uint8Array(budget);
  }

  /** Frames `message` after the queued ones; false (dropped) when it does not fit the budget. */
  add(message: Uint8Array): boolean {
    const need = unreliableEntryBytes(message.length);
    if (this.used + need > this.budget) return false;
    this.used = writeUnreliableEntry(this.buf, this.used, message);
    return true;
  }

  /** Largest payload one more `add` accepts (its framing already deducted). */
  spaceBytes(): number {
    const room = this.budget - this.used;
    for (let framing = 1; framing <= 3; framing++) {
      const length = room - framing;
      if (length >= 0 && varUintSize(length * 4) <= framing) return length;
    }
    return 0;
  }

  /** The framed entries queued so far (a view valid until the next `add`); empties the stage. */
  take(): Uint8Array {
    const entries = this.buf.subarray(0, this.used);
    this.used = 0;
    return entries;
  }
}
