/**
 * The browser types of the voice API, declared so the package's types need no DOM lib: where the DOM lib is loaded
 * (any browser app) they are the DOM's own `MediaStream` and `AudioContext`; elsewhere opaque stand-ins, so a Node
 * consumer type-checks without `lib: ["DOM"]`.
 */

/** The DOM's `MediaStream` (an opaque object without the DOM lib). */
export type VoiceMediaStream = typeof globalThis extends { MediaStream: { prototype: infer P } }
  ? P
  : { readonly id: string };

/** The DOM's `AudioContext` (an opaque object without the DOM lib). */
export type VoiceAudioContext = typeof globalThis extends { AudioContext: { prototype: infer P } }
  ? P
  : { readonly sampleRate: number };

/** The states of an `RTCPeerConnection` (its `connectionState`). */
export type VoicePeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** A STUN or TURN server, as `RTCIceServer` has it. */
export interface VoiceIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}
