/** Hand-made hostile traffic for the attack tests and the attack bench: crafted packets and raw peers that speak the wire directly. */
import { encodeControl, readMessageTag } from '../../src/codec/message-frame.ts';
import { decodeBody } from '../../src/codec/msgpack-body.ts';
import { Connection } from '../../src/connection/connection.ts';
import { writeReliableEntry } from '../../src/connection/packet-entries.ts';
import { PACKET_HEADER_BYTES, writePacketHeader } from '../../src/connection/packet-header.ts';
import { PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import { Tag } from '../../src/protocol/tags.ts';
import type { Clock } from '../../src/clock.ts';
import type { Link } from '../../src/transport/transport.ts';

/** One packet holding one reliable fragment `index` of a message claiming `count` fragments (1,040 bytes). */
export function fragmentClaim(seq: number, id: number, index: number, count: number): Uint8Array {
  const buf = new Uint8Array(1200);
  writePacketHeader(new DataView(buf.buffer), { protocolId: 0xec, seq, ack: 0, ackBits: 0, flags: 0 });
  const end = writeReliableEntry(buf, PACKET_HEADER_BYTES, id, index, count, new Uint8Array(1024).fill(7));
  return buf.slice(0, end);
}

/** A header-only packet without acks: keeps a link alive while acknowledging nothing. */
export function silentPacket(seq: number): Uint8Array {
  const buf = new Uint8Array(PACKET_HEADER_BYTES);
  writePacketHeader(new DataView(buf.buffer), { protocolId: 0xec, seq, ack: 0, ackBits: 0, flags: 0 });
  return buf;
}

/** A decoded message a raw peer received. */
export interface Received {
  tag: number;
  body: unknown;
}

/** A client that speaks the wire itself: says Hello, then sends whatever the test crafts. */
export class RawClient {
  readonly connection: Connection;
  readonly received: Received[] = [];
  /** False: receive but never flush, so nothing is ever acked. */
  acks = true;

  constructor(
    readonly link: Link,
    clock: Clock,
    schemaHash: string,
  ) {
    this.connection = new Connection(link, { clock });
    this.connection.sendReliable(
      encodeControl(Tag.Hello, { protocolVersion: PROTOCOL_VERSION, schemaHash, capabilities: [] }),
    );
    this.connection.flush();
  }

  /** Sends a message on the reliable lane. */
  send(tag: number, body: unknown): void {
    this.connection.sendReliable(encodeControl(tag, body));
  }

  /** Receives (and, when acking, flushes). */
  step(): void {
    if (!this.connection.isOpen) return;
    const push = (m: Uint8Array) => {
      const d = decodeBody(m.subarray(2));
      this.received.push({ tag: readMessageTag(m), body: d.ok ? d.value : undefined });
    };
    this.connection.receive({ reliable: push, unreliable: push });
    if (this.acks && this.connection.isOpen) this.connection.flush();
  }

  /** Wire code of the first fatal Error received, if any. */
  fatalCode(): number | undefined {
    const e = this.received.find((m) => m.tag === Tag.Error && (m.body as { fatal?: boolean }).fatal);
    return (e?.body as { code?: number } | undefined)?.code;
  }

  /** True once the Welcome arrived. */
  get welcomed(): boolean {
    return this.received.some((m) => m.tag === Tag.Welcome);
  }
}
