/** Counters of a voice mesh. */
export interface VoiceStats {
  /** Peer connections open now (connecting or connected). */
  peers: number;
  /** Peer connections ever opened, and closed (member left, failed, mesh rebuilt). */
  opened: number;
  /** Peer connections closed (member left, failed, mesh rebuilt). */
  closed: number;
  /** Remote audio tracks received. */
  tracks: number;
  /** Signals this client sent (offers, answers, candidates), and received and applied. */
  signalsSent: number;
  /** Signals received and applied. */
  signalsApplied: number;
  /**
   * Signals refused: from a user who is not in the session or not a peer, out of order (an answer without an
   * offer, an offer from the peer that should answer), or whose SDP or candidate the browser rejected.
   */
  signalsInvalid: number;
  /** Signals dropped because a peer's queue (`MAX_QUEUED_SIGNALS`) or candidate buffer was full. */
  signalsDropped: number;
  /** Users not connected because the mesh had `maxPeers` peers (counted once per user). */
  meshFull: number;
  /** ICE restarts tried, and pairs given up after their connection failed. */
  iceRestarts: number;
  /** Pairs given up after their connection failed (ICE restarts did not help). */
  failed: number;
  /** Times the speaking flag changed and was published. */
  speakingChanges: number;
}

/** Fresh counters. */
export function emptyVoiceStats(): VoiceStats {
  return {
    peers: 0,
    opened: 0,
    closed: 0,
    tracks: 0,
    signalsSent: 0,
    signalsApplied: 0,
    signalsInvalid: 0,
    signalsDropped: 0,
    meshFull: 0,
    iceRestarts: 0,
    failed: 0,
    speakingChanges: 0,
  };
}
