/**
 * Refused links kept open just long enough to deliver their fatal Error. Bounded like pending handshakes: a flood
 * of refusals holds no more than a flood of handshakes would.
 */
import type { Connection, ConnectionHandler } from '../connection/connection.ts';
import type { ServerSessionStats } from './server-capacity.ts';

const IGNORE_ALL: ConnectionHandler = { reliable: () => {}, unreliable: () => {} };

/** The lingering refused links of a server session, oldest first. */
export class LingeringLinks {
  private readonly list: Array<{ connection: Connection; untilMs: number }> = [];

  constructor(
    private readonly cap: number,
    private readonly stats: ServerSessionStats,
  ) {}

  /** Links lingering now. */
  get count(): number {
    return this.list.length;
  }

  /** Keeps `connection` open until its Error is acked or `untilMs`; at the cap the oldest is closed first. */
  add(connection: Connection, untilMs: number): void {
    if (this.list.length >= this.cap) {
      this.stats.lingerDropped++;
      this.list.shift()!.connection.close('refused');
    }
    this.list.push({ connection, untilMs });
  }

  /** Reads (and ignores) what each link sent, so acks arrive; closes those delivered or out of time. */
  pass(now: number): void {
    const list = this.list;
    let w = 0;
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      const conn = item.connection;
      if (!conn.isOpen) continue;
      conn.receive(IGNORE_ALL);
      if (conn.reliablePendingBytes === 0 || now >= item.untilMs) {
        conn.close('refused');
        continue;
      }
      conn.flush();
      list[w++] = item;
    }
    list.length = w;
  }

  /** Bytes the lingering links hold for reliable messages not yet delivered. */
  bufferedBytes(): number {
    let n = 0;
    for (const l of this.list) n += l.connection.reliableBufferedBytes;
    return n;
  }

  /** Closes every lingering link (shutdown). */
  closeAll(reason: string): void {
    for (const item of this.list) item.connection.close(reason);
    this.list.length = 0;
  }
}
