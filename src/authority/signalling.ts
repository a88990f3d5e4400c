/**
 * Signalling relay: WebRTC offers, answers and ICE candidates travel client → server → client so two users can
 * open a peer connection (voice, peer data). The server relays only between two distinct connected members of
 * the session, and an application hook may refuse a pair.
 */
import type { SignalPayload } from './app-wire.ts';

/** Decides whether `from` may signal `to` (both are connected members); default: yes. */
export type AllowSignal = (from: number, to: number, signal: SignalPayload) => boolean;

/** Outcome of a relay attempt. */
export type RelayVerdict = 'relay' | 'not-a-member' | 'refused';

/** Counters and the decision of the relay. */
export class SignalRelay {
  readonly counters = {
    /** Signals relayed to their addressee. */
    relayed: 0,
    /** Signals refused: sender or addressee not a connected member (or the same client), or the allow hook said no. */
    refused: 0,
  };

  constructor(
    private readonly isMember: (clientId: number) => boolean,
    private readonly allow: AllowSignal | null,
  ) {}

  /** Decides whether a signal from `from` goes to `to`, and counts it. */
  decide(from: number, to: number, signal: SignalPayload): RelayVerdict {
    let verdict: RelayVerdict = 'relay';
    if (to === from || !this.isMember(to) || !this.isMember(from)) verdict = 'not-a-member';
    else if (this.allow && !this.allow(from, to, signal)) verdict = 'refused';
    if (verdict === 'relay') this.counters.relayed++;
    else this.counters.refused++;
    return verdict;
  }
}
