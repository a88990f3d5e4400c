/** When things last happened on the client's link: what its timers and handshake read and set. */

/** The client session's link timing, shared by its parts (times in ms of the session's clock). */
export interface ClientLinkTimes {
  /** Last packet from the server (or the Welcome, or the attach). */
  lastHeardAtMs: number;
  /** Last Ping sent (-Infinity: none on this link yet). */
  lastPingAtMs: number;
  /** When the message the Welcome answers was sent (the Hello, or the ChallengeResponse): its first clock sample. */
  helloSentAtMs: number;
  /** When the current link was attached (the handshake timeout runs from it). */
  attachedAtMs: number;
  /** When a connected link was lost (-1: not lost; the resume window runs from it). */
  lostAtMs: number;
  /** A reply (Pong) was queued during this receive: flush once at its end. */
  needsFlush: boolean;
}

/** Link timing before any link. */
export function createClientLinkTimes(): ClientLinkTimes {
  return {
    lastHeardAtMs: 0,
    lastPingAtMs: -Infinity,
    helloSentAtMs: 0,
    attachedAtMs: 0,
    lostAtMs: -1,
    needsFlush: false,
  };
}
