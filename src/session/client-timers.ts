/**
 * The client session's timers, run once per `receive()`: while (re)connecting, the reconnector's attempts, the
 * handshake timeout and the server's resume window; while connected, the heartbeat (Pings, clock samples, the
 * silence that means the link is lost) and idle detection.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { Connection } from '../connection/connection.ts';
import type { ErrorCodeName } from '../errors.ts';
import type { WelcomeBody } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientLinkTimes } from './client-link-times.ts';
import { CLOCK_BURST_INTERVAL_MS, CLOCK_RESYNC_INTERVAL_MS } from './client-session-options.ts';
import { CLOCK_SAMPLES, type ClockSync } from './clock-sync.ts';
import type { ClientState } from './presence-list.ts';
import { HANDSHAKE_TIMEOUT_MS, SILENT_HEARTBEATS } from './session-options.ts';

/** What the timers need from the client session. */
export interface ClientTimersHost {
  readonly times: ClientLinkTimes;
  readonly heartbeatMs: number;
  readonly clockSync: ClockSync;
  state(): ClientState;
  /** The current link, if any. */
  connection(): Connection | null;
  /** The last Welcome, if any (its resume window). */
  welcome(): WelcomeBody | null;
  /** Polls the reconnector (no link: an attempt may be due). */
  pollReconnect(now: number): void;
  /** Idle detection at `now`. */
  idleTick(now: number): void;
  linkLost(why: string): void;
  fail(code: ErrorCodeName, message: string): void;
}

/** One pass of the timers at `now`. */
export function runClientTimers(h: ClientTimersHost, now: number): void {
  switch (h.state()) {
    case 'connecting':
    case 'reconnecting': {
      if (!h.connection()) h.pollReconnect(now);
      else if (now - h.times.attachedAtMs >= HANDSHAKE_TIMEOUT_MS)
        h.linkLost(`no Welcome within ${HANDSHAKE_TIMEOUT_MS} ms`);
      const welcome = h.welcome();
      if (h.state() === 'reconnecting' && welcome && welcome.resumeWindowMs > 0) {
        const window = welcome.resumeWindowMs;
        if (now - h.times.lostAtMs > window)
          h.fail('Timeout', `could not resume within the server's resume window of ${window} ms`);
      }
      return;
    }
    case 'connected':
      heartbeat(h, now);
      return;
  }
}

function heartbeat(h: ClientTimersHost, now: number): void {
  const conn = h.connection();
  if (!conn) return;
  const t = h.times;
  const silent = now - t.lastHeardAtMs;
  if (silent >= SILENT_HEARTBEATS * h.heartbeatMs) {
    h.linkLost(`nothing from the server for ${Math.round(silent)} ms`);
    return;
  }
  const sincePing = now - t.lastPingAtMs;
  const wantSample =
    sincePing >= (h.clockSync.count < CLOCK_SAMPLES ? CLOCK_BURST_INTERVAL_MS : CLOCK_RESYNC_INTERVAL_MS);
  if (wantSample || (silent >= h.heartbeatMs && sincePing >= h.heartbeatMs)) {
    t.lastPingAtMs = now;
    conn.sendUnreliable(encodeControl(Tag.Ping, { clientTime: now }));
    conn.flush();
  }
  h.idleTick(now);
}
