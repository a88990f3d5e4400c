/**
 * One pair of the voice mesh: an RTCPeerConnection with one sendrecv audio transceiver. The user with the lower
 * client id offers; the other answers. Signals of a peer apply one at a time in arrival order (a bounded queue);
 * candidates that arrive before the remote description wait in a bounded buffer. Whatever the remote sends, a
 * rejected description or candidate is counted and reported, never thrown.
 */
import type { SignalPayload } from '../authority/app-wire.ts';
import type { VoiceIceServer } from './voice-dom.ts';
import { MAX_ICE_RESTARTS, MAX_PENDING_CANDIDATES, MAX_QUEUED_SIGNALS } from './voice-options.ts';
import type { VoiceStats } from './voice-stats.ts';

/** What a peer needs from its mesh. */
export interface VoicePeerHost {
  readonly stats: VoiceStats;
  readonly iceServers: VoiceIceServer[];
  /** The microphone track to send (null: silence until one is set). */
  track(): MediaStreamTrack | null;
  signal(to: number, payload: SignalPayload): void;
  remoteStream(from: number, stream: MediaStream): void;
  /** The pair failed for good: the mesh closes it. */
  failed(remoteId: number, why: string): void;
  invalid(remoteId: number, why: string): void;
}

/** One peer connection of the mesh. */
export class VoicePeer {
  readonly pc: RTCPeerConnection;
  private transceiver: RTCRtpTransceiver | null = null;
  private readonly candidates: RTCIceCandidateInit[] = [];
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private restarts = 0;
  private closed = false;
  stream: MediaStream | null = null;

  constructor(
    readonly remoteId: number,
    readonly offerer: boolean,
    private readonly host: VoicePeerHost,
  ) {
    this.pc = new RTCPeerConnection({ iceServers: host.iceServers });
    this.pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (!c || !c.candidate || this.closed) return;
      const payload: SignalPayload = { type: 'candidate', candidate: c.candidate };
      if (c.sdpMid != null) payload.sdpMid = c.sdpMid;
      if (c.sdpMLineIndex != null) payload.sdpMLineIndex = c.sdpMLineIndex;
      this.send(payload);
    };
    this.pc.ontrack = (e) => {
      if (this.closed || e.track.kind !== 'audio') return;
      this.stream = e.streams[0] ?? new MediaStream([e.track]);
      host.stats.tracks++;
      host.remoteStream(remoteId, this.stream);
    };
    this.pc.onconnectionstatechange = () => this.connectionChanged();
    if (offerer) {
      this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
      void this.transceiver.sender.replaceTrack(host.track()).catch(() => {});
      // Fires once now (the new transceiver), and again after restartIce().
      this.pc.onnegotiationneeded = () => this.enqueue(() => this.offer());
    }
  }

  /** The connection state of the pair. */
  get state(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  /** Sends `track` from now on (null: silence); no renegotiation, the transceiver stays. */
  setTrack(track: MediaStreamTrack | null): void {
    const sender = this.transceiver?.sender;
    if (sender && !this.closed) void sender.replaceTrack(track).catch(() => {});
  }

  /** Applies a relayed signal in order; false when it was dropped (queue full). */
  receive(signal: SignalPayload): boolean {
    if (this.closed) return false;
    if (this.queued >= MAX_QUEUED_SIGNALS) {
      this.host.stats.signalsDropped++;
      return false;
    }
    this.enqueue(() => this.apply(signal));
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.onicecandidate = this.pc.ontrack = this.pc.onconnectionstatechange = this.pc.onnegotiationneeded = null;
    this.pc.close();
    this.candidates.length = 0;
  }

  private send(payload: SignalPayload): void {
    this.host.stats.signalsSent++;
    this.host.signal(this.remoteId, payload);
  }

  private enqueue(step: () => Promise<void>): void {
    this.queued++;
    this.chain = this.chain.then(async () => {
      this.queued--;
      if (this.closed) return;
      try {
        await step();
      } catch (e) {
        if (!this.closed) this.host.invalid(this.remoteId, e instanceof Error ? e.message : String(e));
      }
    });
  }

  private async offer(): Promise<void> {
    await this.pc.setLocalDescription();
    const sdp = this.pc.localDescription?.sdp;
    if (sdp && !this.closed) this.send({ type: 'offer', sdp });
  }

  private async apply(signal: SignalPayload): Promise<void> {
    const pc = this.pc;
    if (signal.type === 'candidate') {
      const init: RTCIceCandidateInit = {
        candidate: signal.candidate,
        sdpMid: signal.sdpMid ?? null,
        sdpMLineIndex: signal.sdpMLineIndex ?? null,
      };
      if (pc.remoteDescription) await pc.addIceCandidate(init);
      else if (this.candidates.length < MAX_PENDING_CANDIDATES) this.candidates.push(init);
      else return void this.host.stats.signalsDropped++;
      this.host.stats.signalsApplied++;
      return;
    }
    if (signal.type === 'offer') {
      if (this.offerer) return this.host.invalid(this.remoteId, 'an offer from the peer that answers');
      if (pc.signalingState !== 'stable') return this.host.invalid(this.remoteId, `an offer in ${pc.signalingState}`);
      await pc.setRemoteDescription({ type: 'offer', sdp: signal.sdp });
      const audio = pc
        .getTransceivers()
        .find((t) => t.receiver.track.kind === 'audio' && t.currentDirection !== 'stopped');
      if (!audio) {
        await pc.setRemoteDescription({ type: 'rollback' });
        return this.host.invalid(this.remoteId, 'an offer without audio');
      }
      this.transceiver = audio;
      audio.direction = 'sendrecv';
      await audio.sender.replaceTrack(this.host.track());
      await pc.setLocalDescription();
      const sdp = pc.localDescription?.sdp;
      if (sdp && !this.closed) this.send({ type: 'answer', sdp });
    } else {
      if (!this.offerer || pc.signalingState !== 'have-local-offer')
        return this.host.invalid(this.remoteId, `an answer in ${pc.signalingState}`);
      await pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
    }
    this.host.stats.signalsApplied++;
    for (const c of this.candidates.splice(0)) {
      // A bad early candidate is counted like a late one; the others still apply.
      await pc.addIceCandidate(c).catch((e: unknown) => this.host.invalid(this.remoteId, String(e)));
    }
  }

  private connectionChanged(): void {
    if (this.closed || this.pc.connectionState !== 'failed') return;
    // The offerer restarts ICE; the answerer follows the new offers, and both give up after the same count.
    this.restarts++;
    if (this.restarts > MAX_ICE_RESTARTS) return this.host.failed(this.remoteId, 'ICE failed');
    if (!this.offerer) return;
    this.host.stats.iceRestarts++;
    this.pc.restartIce();
  }
}
