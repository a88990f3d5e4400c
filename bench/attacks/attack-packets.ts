/** Hand-made packets and a raw client for the attack scenarios: hostile peers speak the wire directly. */
import { encodeControl, readMessageTag } from '../../src/codec/message-frame.ts';
import { decodeBody } from '../../src/codec/msgpack-body.ts';
import { Connection } from '../../src/connection/connection.ts';
import { writeReliableEntry } from '../../src/connection/packet-entries.ts';
import { PACKET_HEADER_BYTES, writePacketHeader } from '../../src/connection/packet-header.ts';
import { errorCodeName } from '../../src/errors.ts';
import { PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import { Tag } from '../../src/protocol/tags.ts';
import type { Clock } from '../../src/clock.ts';
import type { Link } from '../../src/transport/transport.ts';

/** One ~1,040-byte packet: fragment `index` of reliable message `id`, claiming `count` fragments. */
export function fragmentClaim(seq: number, id: number, index: number, count: number): Uint8Array {
  const buf = new Uint8Array(1200);
  writePacketHeader(new DataView(buf.buffer), { protocolId: 0xec, seq, ack: 0, ackBits: 0, flags: 0 });
  return buf.slice(0, writeReliableEntry(buf, PACKET_HEADER_BYTES, id, index, count, new Uint8Array(1024)));
}

/** A header-only packet that acks nothing: keeps a link alive without acknowledging. */
export function silentPacket(seq: number): Uint8Array {
  const buf = new Uint8Array(PACKET_HEADER_BYTES);
  writePacketHeader(new DataView(buf.buffer), { protocolId: 0xec, seq, ack: 0, ackBits: 0, flags: 0 });
  return buf;
}

/** A client that says Hello, then sends what the scenario crafts; it may stop acking. */
export class RawClient {
  readonly connection: Connection;
  /** Set once a Welcome arrived. */
  welcomed = false;
  /** Code of the first fatal Error received, if any. */
  fatalCode = 0;
  /** False: receive but never flush, so nothing is acked. */
  acks = true;

  constructor(
    readonly link: Link,
    clock: Clock,
    schemaHash: string,
  ) {
    this.connection = new Connection(link, { clock });
    this.connection.sendReliable(
      encodeControl(Tag.Hello, { protocolVersion: PROTOCOL_VERSION, schemaHash, capabilities: ['deflate'] }),
    );
    this.connection.flush();
  }

  /** Receives what arrived (noting Welcome and fatal Errors), and flushes when acking. */
  step(): void {
    if (!this.connection.isOpen) return;
    const seen = (m: Uint8Array): void => {
      const tag = readMessageTag(m);
      if (tag === Tag.Welcome) this.welcomed = true;
      else if (tag === Tag.Error && this.fatalCode === 0) {
        const d = decodeBody(m.subarray(2));
        const body = d.ok ? (d.value as { code?: unknown; fatal?: unknown }) : null;
        if (body?.fatal === true && typeof body.code === 'number') this.fatalCode = body.code;
      }
    };
    this.connection.receive({ reliable: seen, unreliable: seen });
    if (this.acks && this.connection.isOpen) this.connection.flush();
  }

  /** 'connected', or how it was disconnected. */
  state(): string {
    if (this.connection.isOpen) return this.welcomed ? 'still connected' : 'never welcomed';
    const name = errorCodeName(this.fatalCode);
    return this.fatalCode !== 0 ? `disconnected (${name ?? this.fatalCode})` : 'disconnected';
  }
}
