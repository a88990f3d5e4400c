/**
 * Spatial voice for a small room: every pair of users in the session opens one WebRTC audio connection (a full
 * mesh, up to `maxPeers`), set up through the server's signalling relay. The lower client id offers. A pair opens
 * when both are in the presence list and closes when either leaves; this user's microphone level drives a
 * debounced speaking flag in awareness. Positioning the remote streams (Web Audio panners, three.js
 * `PositionalAudio` on the speaker's head) is the application's: the mesh hands out one stream per user.
 */
import type { SignalPayload } from '../authority/app-wire.ts';
import { getNetContext } from '../context.ts';
import { NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import type { ClientExtension } from '../replication/extension.ts';
import { clientIdOf, onSessionEvent, presenceOf } from '../world-api.ts';
import { createLevelMeter, type LevelMeter } from './level-meter.ts';
import type { VoiceMediaStream, VoicePeerState } from './voice-dom.ts';
import { SpeakingGate } from './speaking-gate.ts';
import { type ResolvedVoiceOptions, resolveVoiceOptions, type VoiceOptions } from './voice-options.ts';
import { VoicePeer, type VoicePeerHost } from './voice-peer.ts';
import { emptyVoiceStats, type VoiceStats } from './voice-stats.ts';

/** Events of a voice mesh. */
export type VoiceEvents = {
  /** The audio of user `clientId` arrived: play it (positioned at their head). */
  stream: [clientId: number, stream: VoiceMediaStream];
  /** The pair with `clientId` closed (they left, the link failed, or the mesh was disposed). */
  closed: [clientId: number, reason: 'left' | 'failed' | 'disposed'];
  /** This user's speaking flag changed. */
  speaking: [speaking: boolean];
};

/** One pair as `peers()` reports it. */
export interface VoicePeerInfo {
  /** The other user's client id. */
  clientId: number;
  /** True when this user offered (the lower client id). */
  offerer: boolean;
  /** The pair's `RTCPeerConnection.connectionState`. */
  state: VoicePeerState;
  /** True once the peer's audio track arrived. */
  hasAudio: boolean;
}

/** A voice mesh. */
export interface Voice {
  /** Events of the mesh: remote streams arriving, pairs closing, this user's speaking flag. */
  readonly events: Emitter<VoiceEvents>;
  /** Sends `stream`'s first audio track to every peer from now on (null: send silence). */
  setMicrophone(stream: VoiceMediaStream | null): void;
  /** Mutes (the peers receive silence, the speaking flag goes off) or unmutes the microphone. */
  setMuted(muted: boolean): void;
  /** True while the microphone is muted. */
  readonly muted: boolean;
  /** This user's speaking flag now (debounced). */
  readonly speaking: boolean;
  /** The flag `clientId` published in awareness (false without awareness or record). */
  isSpeaking(clientId: number): boolean;
  /** The microphone's level now (0..1 RMS; 0 when muted or without microphone). */
  microphoneLevel(): number;
  /** The received audio level of `clientId` now (0..1 RMS), or 0 without their stream. */
  levelOf(clientId: number): number;
  /** The received stream of `clientId`, or null. */
  streamOf(clientId: number): VoiceMediaStream | null;
  /** Every pair of this user's mesh now. */
  peers(): VoicePeerInfo[];
  /** A copy of the mesh's counters. */
  stats(): VoiceStats;
  /** Closes every pair and stops listening; the microphone stream stays the caller's. */
  dispose(): void;
}

/**
 * Starts the voice mesh of this client world. Call it once after `createClientAuthority` (and awareness, for the
 * speaking flag); give it the microphone with `setMicrophone` (from `getUserMedia`).
 * @example
 * const voice = createVoice(world, { authority, awareness });
 * voice.setMicrophone(await navigator.mediaDevices.getUserMedia({ audio: true }));
 * voice.events.on('stream', (id, stream) => headOf(id).add(positionalAudio(stream)));
 */
export function createVoice(world: object, options: VoiceOptions): Voice {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') usageError('createVoice needs a client world', 'create it on each page, not the server');
  if (typeof RTCPeerConnection !== 'function')
    usageError('createVoice needs WebRTC (RTCPeerConnection)', 'run it in a browser');
  const o: ResolvedVoiceOptions = resolveVoiceOptions(options);
  const audio = (options.audioContext as AudioContext | undefined) ?? new AudioContext();
  const stats = emptyVoiceStats();
  const events = new Emitter<VoiceEvents>();
  const peers = new Map<number, VoicePeer>();
  const meters = new Map<number, LevelMeter>();
  /** Users left out of a full mesh, or whose pair failed: not tried again until they leave. */
  const skipped = new Set<number>();
  const gate = new SpeakingGate(o.speakingThreshold, o.speakingHoldMs);
  let microphone: MediaStreamTrack | null = null;
  let micMeter: LevelMeter | null = null;
  let muted = false;
  let me = 0;
  let disposed = false;

  const report = (code: 'VoiceSignalInvalid' | 'VoiceMeshFull' | 'VoicePeerFailed', message: string) =>
    ctx.onError?.(new NetError(code, message));

  const close = (id: number, reason: 'left' | 'failed' | 'disposed') => {
    const peer = peers.get(id);
    if (!peer) return;
    peer.close();
    peers.delete(id);
    meters.get(id)?.dispose();
    meters.delete(id);
    stats.closed++;
    stats.peers = peers.size;
    events.emit('closed', id, reason);
  };

  const host: VoicePeerHost = {
    stats,
    iceServers: o.iceServers,
    track: () => microphone,
    signal: (to, payload) => o.authority.signal(to, payload),
    remoteStream(from, stream) {
      meters.get(from)?.dispose();
      meters.set(from, createLevelMeter(audio, stream));
      events.emit('stream', from, stream);
    },
    failed(id, why) {
      stats.failed++;
      skipped.add(id);
      report('VoicePeerFailed', `voice with client ${id} failed: ${why}`);
      close(id, 'failed');
    },
    invalid(id, why) {
      stats.signalsInvalid++;
      report('VoiceSignalInvalid', `voice signal from client ${id} refused: ${why}`);
    },
  };

  const open = (id: number, offerer: boolean): VoicePeer | null => {
    if (peers.size >= o.maxPeers) {
      if (!skipped.has(id)) {
        skipped.add(id);
        stats.meshFull++;
        report('VoiceMeshFull', `voice mesh full (${o.maxPeers} peers): client ${id} not connected`);
      }
      return null;
    }
    const peer = new VoicePeer(id, offerer, host);
    peers.set(id, peer);
    stats.opened++;
    stats.peers = peers.size;
    return peer;
  };

  /** Opens the pairs this user offers, closes the pairs of users who left. */
  const reconcile = () => {
    if (disposed) return;
    const id = clientIdOf(world);
    if (id !== me) {
      for (const peer of [...peers.keys()]) close(peer, 'left'); // a new session: everyone is new
      skipped.clear();
      me = id;
    }
    if (me === 0) return;
    const present = new Set(presenceOf(world).map((u) => u.clientId));
    for (const peer of [...peers.keys()]) if (!present.has(peer)) close(peer, 'left');
    for (const s of [...skipped]) if (!present.has(s)) skipped.delete(s);
    for (const u of [...present].sort((a, b) => a - b)) if (u > me && !peers.has(u) && !skipped.has(u)) open(u, true);
  };

  const onSignal = (from: number, signal: SignalPayload) => {
    if (disposed || me === 0) return;
    let peer = peers.get(from);
    if (!peer) {
      const member = presenceOf(world).some((u) => u.clientId === from);
      // Only the lower id opens a pair, with an offer; anything else from a stranger is refused.
      // (The relay is reliable and ordered: a candidate never overtakes its offer.)
      if (!member || from > me || signal.type !== 'offer' || skipped.has(from))
        return host.invalid(from, member ? `a ${signal.type} outside a pair` : 'not a member of the session');
      peer = open(from, false) ?? undefined;
      if (!peer) return;
    }
    peer.receive(signal);
  };

  /** Publishes the speaking flag from the microphone level; runs on each send tick of the plugin. */
  const extension: ClientExtension = {
    send() {
      if (disposed) return;
      const changed = muted || !micMeter ? gate.reset() : gate.update(micMeter.level(), ctx.clock.now());
      if (!changed) return;
      stats.speakingChanges++;
      o.awareness?.set({ [o.speakingField]: gate.speaking });
      events.emit('speaking', gate.speaking);
    },
  };
  // A schema without the flag field is a programmer mistake: awareness.set throws its Usage error here, at once,
  // never later from the send step.
  o.awareness?.set({ [o.speakingField]: false });
  ctx.replicator.extensions.push(extension);
  const unsubscribe = [
    o.authority.events.on('signal', onSignal),
    onSessionEvent(world, 'presence', reconcile),
    onSessionEvent(world, 'state', (state) => {
      if (state === 'connected') reconcile();
      if (state === 'closed' || state === 'error') for (const id of [...peers.keys()]) close(id, 'left');
    }),
  ];
  reconcile();

  /** A disabled track sends silence: muting needs no renegotiation and no new track. */
  const applyMute = () => {
    if (microphone) microphone.enabled = !muted;
  };

  return {
    events,
    setMicrophone(mediaStream) {
      const stream = mediaStream as MediaStream | null;
      micMeter?.dispose();
      micMeter = null;
      microphone = stream?.getAudioTracks()[0] ?? null;
      if (stream && microphone) micMeter = createLevelMeter(audio, stream);
      applyMute();
      for (const peer of peers.values()) peer.setTrack(microphone);
    },
    setMuted(value) {
      muted = value;
      applyMute();
    },
    get muted() {
      return muted;
    },
    get speaking() {
      return gate.speaking;
    },
    isSpeaking: (id) => o.awareness?.get(id)?.[o.speakingField] === true,
    microphoneLevel: () => (muted || !micMeter ? 0 : micMeter.level()),
    levelOf: (id) => meters.get(id)?.level() ?? 0,
    streamOf: (id) => peers.get(id)?.stream ?? null,
    peers: () =>
      [...peers.values()].map((p) => ({
        clientId: p.remoteId,
        offerer: p.offerer,
        state: p.state,
        hasAudio: p.stream !== null,
      })),
    stats: () => ({ ...stats }),
    dispose() {
      if (disposed) return;
      for (const id of [...peers.keys()]) close(id, 'disposed');
      disposed = true;
      micMeter?.dispose();
      for (const u of unsubscribe) u();
      const i = ctx.replicator.extensions.indexOf(extension);
      if (i >= 0) ctx.replicator.extensions.splice(i, 1);
      if (!options.audioContext) void audio.close();
    },
  };
}
