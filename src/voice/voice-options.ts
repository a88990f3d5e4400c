/** Options of `createVoice`, their defaults, and the one check of them. */
import type { ClientAuthority } from '../authority/client-authority.ts';
import type { ClientAwareness } from '../awareness/client-awareness.ts';
import { usageError } from '../errors.ts';
import type { VoiceAudioContext, VoiceIceServer } from './voice-dom.ts';

/**
 * Peers one voice mesh connects to at most: a mesh sends this user's audio once per peer (about 30-50 kbit/s each
 * with Opus), so 8 keeps the upload under half a megabit and the CPU of a standalone headset comfortable.
 */
export const DEFAULT_VOICE_MAX_PEERS = 8;

/** Microphone RMS level (0..1 of full scale) above which the user counts as speaking: ~-34 dBFS, above room hiss. */
export const DEFAULT_SPEAKING_THRESHOLD = 0.02;

/** The speaking flag stays on this long after the level drops (pauses between words do not flicker it). */
export const DEFAULT_SPEAKING_HOLD_MS = 400;

/**
 * ICE candidates held per peer until its remote description arrives; a real peer sends a handful (one per
 * interface and protocol), so 32 is ample and caps what a flooder can park.
 */
export const MAX_PENDING_CANDIDATES = 32;

/** Signalling messages of one peer queued behind the one being applied; more are dropped and counted. */
export const MAX_QUEUED_SIGNALS = 64;

/** ICE restarts the offerer tries after a pair's connection failed, before it gives the pair up. */
export const MAX_ICE_RESTARTS = 2;

/** Options of `createVoice`. */
export interface VoiceOptions {
  /** This client's authority layer: its signalling relay carries the offers, answers and candidates. */
  authority: ClientAuthority;
  /** This client's awareness: the speaking flag is published in its boolean field `speakingField`. */
  awareness?: ClientAwareness;
  /** Name of a discrete boolean awareness field for the speaking flag (default 'speaking'). */
  speakingField?: string;
  /** Peers connected at most (default 8); more users are not connected, and counted. */
  maxPeers?: number;
  /** STUN/TURN servers (default none: host candidates, enough on a LAN or loopback). */
  iceServers?: VoiceIceServer[];
  /** RMS level above which this user is speaking (default 0.02). */
  speakingThreshold?: number;
  /** How long the flag stays on after the level drops, in ms (default 400). */
  speakingHoldMs?: number;
  /** The audio context for level meters (default: a new one). Resume it on a user gesture. */
  audioContext?: VoiceAudioContext;
}

/** Options with every default filled in. */
export interface ResolvedVoiceOptions {
  authority: ClientAuthority;
  awareness: ClientAwareness | null;
  speakingField: string;
  maxPeers: number;
  iceServers: VoiceIceServer[];
  speakingThreshold: number;
  speakingHoldMs: number;
}

/** Fills in defaults and throws a Usage NetError on a value out of range. */
export function resolveVoiceOptions(options: VoiceOptions): ResolvedVoiceOptions {
  const resolved: ResolvedVoiceOptions = {
    authority: options.authority,
    awareness: options.awareness ?? null,
    speakingField: options.speakingField ?? 'speaking',
    maxPeers: options.maxPeers ?? DEFAULT_VOICE_MAX_PEERS,
    iceServers: options.iceServers ?? [],
    speakingThreshold: options.speakingThreshold ?? DEFAULT_SPEAKING_THRESHOLD,
    speakingHoldMs: options.speakingHoldMs ?? DEFAULT_SPEAKING_HOLD_MS,
  };
  if (!resolved.authority) usageError('createVoice needs the client authority', 'pass { authority }');
  if (!Number.isInteger(resolved.maxPeers) || resolved.maxPeers < 1 || resolved.maxPeers > 64)
    usageError('voice maxPeers out of range', 'pass an integer 1..64 (a mesh past ~8 wants an SFU)');
  if (!(resolved.speakingThreshold > 0 && resolved.speakingThreshold < 1))
    usageError('voice speakingThreshold out of range', 'pass an RMS level in (0, 1), e.g. 0.02');
  if (!(resolved.speakingHoldMs >= 0)) usageError('voice speakingHoldMs out of range', 'pass a duration >= 0 ms');
  return resolved;
}
