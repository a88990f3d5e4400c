/**
 * The browser types of the voice API, declared so the package's types need no DOM lib: where the DOM lib is loaded
 * (any browser app) they are the DOM's own `MediaStream` and `AudioContext`; elsewhere opaque stand-ins, so a Node
 * consumer type-checks without `lib: ["DOM"]`.
 */

/** The DOM's `MediaStream` (an opaque object without the DOM lib). */
export type VoiceMediaStream = typeof globalThis extends {
  /** The DOM's MediaStream constructor, present where the DOM lib is loaded. */
  MediaStream: {
    /** The constructor's prototype: the MediaStream instance type. */
    prototype: infer P;
  };
}
  ? P
  : {
      /** The stream's unique id. */
      readonly id: string;
    };

/** The DOM's `AudioContext` (an opaque object without the DOM lib). */
export type VoiceAudioContext = typeof globalThis extends {
  /** The DOM's AudioContext constructor, present where the DOM lib is loaded. */
  AudioContext: {
    /** The constructor's prototype: the AudioContext instance type. */
    prototype: infer P;
  };
}
  ? P
  : {
      /** The context's sample rate, in Hz. */
      readonly sampleRate: number;
    };

/** The states of an `RTCPeerConnection` (its `connectionState`). */
export type VoicePeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** A STUN or TURN server, as `RTCIceServer` has it. */
export interface VoiceIceServer {
  /** The server's URL or URLs, e.g. `stun:stun.example.com:3478`. */
  urls: string | string[];
  /** User name for a TURN server. */
  username?: string;
  /** Credential (password) for a TURN server. */
  credential?: string;
}
