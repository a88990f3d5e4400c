/**
 * The state of one geckos.io connection attempt, read from node-datachannel's native peer connection, and what it
 * means: where ICE binds for a request, where an attempt stands, and why it failed, in words.
 */
import type http from 'node:http';
import { isIPv4 } from 'node:net';

/** The members of node-datachannel's PeerConnection read here. */
export interface NativePeerConnection {
  state(): string;
  iceState(): string;
  gatheringState(): string;
  localDescription(): { sdp: string } | null;
  remoteDescription(): { sdp: string } | null;
  setRemoteDescription(sdp: string, type: string): void;
}

/** Where an attempt stood when last sampled. */
export interface AttemptSample {
  state: string;
  iceState: string;
  gatheringState: string;
  localCandidates: number;
  /** The client's answer (remote description) arrived. */
  answered: boolean;
}

const LOOPBACK = '127.0.0.1';

/** The IPv4 form of a socket address ('::ffff:10.0.0.2' -> '10.0.0.2'). */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function isLoopback(address: string): boolean {
  return address === '::1' || (isIPv4(address) && address.startsWith('127.'));
}

/**
 * Where ICE binds for one request: the configured address, else loopback for a client on this machine (libdatachannel
 * gathers no loopback candidate by itself, so on a machine with only loopback nothing would connect), else every
 * interface. A request relayed by a proxy (Forwarded / X-Forwarded-For) is not from this machine.
 */
export function bindAddressFor(request: http.IncomingMessage, configured: string | undefined): string | undefined {
  if (configured !== undefined) return configured;
  const relayed = request.headers.forwarded !== undefined || request.headers['x-forwarded-for'] !== undefined;
  return !relayed && isLoopback(plainAddress(request.socket.remoteAddress)) ? LOOPBACK : undefined;
}

function countCandidates(sdp: string | undefined): number {
  return sdp === undefined ? 0 : (sdp.match(/^a=candidate:/gm) ?? []).length;
}

/** Where the attempt stands now; the previous sample when the native peer connection is closed already. */
export function sampleOf(pc: NativePeerConnection, previous: AttemptSample | null): AttemptSample {
  try {
    const state = pc.state();
    if (state === 'closed' && previous !== null) return previous; // closing resets the rest: keep what was seen
    return {
      state,
      iceState: pc.iceState(),
      gatheringState: pc.gatheringState(),
      localCandidates: countCandidates(pc.localDescription()?.sdp),
      answered: (previous?.answered ?? false) || pc.remoteDescription() !== null,
    };
  } catch {
    // A closed native peer connection may refuse to answer.
    return (
      previous ?? { state: 'closed', iceState: 'closed', gatheringState: 'new', localCandidates: 0, answered: false }
    );
  }
}

/** Says in words why an attempt in this state did not open. */
export function explain(s: AttemptSample, boundTo: string, ending: string): string {
  if (s.localCandidates === 0 && s.gatheringState === 'complete') {
    return (
      `${ending}: the server gathered no ICE candidate (bound to ${boundTo}); ` +
      'set iceBindAddress to an address the client can reach'
    );
  }
  if (!s.answered) return `${ending}: the client never sent its answer (it gave up, or its signalling request failed)`;
  if (s.iceState !== 'connected' && s.iceState !== 'completed') {
    return (
      `${ending}: ICE found no working candidate pair (ICE ${s.iceState}, ${s.localCandidates} local ` +
      `candidate(s) on ${boundTo}); UDP may be blocked between client and server, or the client needs ` +
      'STUN/TURN (iceServers)'
    );
  }
  return `${ending}: ICE connected but DTLS/SCTP did not open the data channel (peer connection ${s.state})`;
}
