/**
 * Builds one flush's outgoing packets in reused scratch buffers: the first packet starts with the queued
 * unreliable entries, reliable entries go first-fit into it and up to `maxPackets - 1` more.
 */
import { PACKET_HEADER_BYTES, writePacketHeader } from './packet-header.ts';
import type { PacketHeader } from './packet-header.ts';
import { writeReliableEntry } from './packet-entries.ts';
import type { OutgoingFragment } from './reliable-sender.ts';

/** Scratch packets of one flush. */
export class PacketAssembler {
  /** Packets opened in this flush (at least 1). */
  used = 1;
  private readonly bufs: Uint8Array[] = [];
  private readonly views: DataView[] = [];
  private readonly pos: number[] = [];
  private readonly frags: OutgoingFragment[][] = [];

  constructor(
    private readonly mtuBytes: number,
    private readonly maxPackets: number,
  ) {
    this.open();
  }

  /** Starts a flush: packet 0 holds `unreliable` (already framed entries) after its header. */
  begin(unreliable: Uint8Array): void {
    for (let p = 0; p < this.used; p++) this.frags[p].length = 0;
    this.used = 1;
    this.bufs[0].set(unreliable, PACKET_HEADER_BYTES);
    this.pos[0] = PACKET_HEADER_BYTES + unreliable.length;
  }

  /** Places a reliable entry in the first packet with room, opening one if allowed; false when all are full. */
  readonly take = (f: OutgoingFragment): boolean => {
    const need = f.entryBytes;
    let p = 0;
    while (p < this.used && this.pos[p] + need > this.mtuBytes) p++;
    if (p === this.used) {
      if (this.used === this.maxPackets) return false;
      if (p === this.bufs.length) this.open();
      this.pos[p] = PACKET_HEADER_BYTES;
      this.used++;
    }
    const msg = f.message;
    this.pos[p] = writeReliableEntry(this.bufs[p], this.pos[p], msg.id, f.index, msg.count, f.data);
    this.frags[p].push(f);
    return true;
  };

  /** Reliable fragments placed in packet `p` during this flush. */
  fragments(p: number): OutgoingFragment[] {
    return this.frags[p];
  }

  /** Writes the header of packet `p` and returns a fresh copy of its bytes (the transport may keep it). */
  finish(p: number, header: PacketHeader): Uint8Array {
    writePacketHeader(this.views[p], header);
    return this.bufs[p].slice(0, this.pos[p]);
  }

  private open(): void {
    const buf = new Uint8Array(this.mtuBytes);
    this.bufs.push(buf);
    this.views.push(new DataView(buf.buffer));
    this.pos.push(PACKET_HEADER_BYTES);
    this.frags.push([]);
  }
}
