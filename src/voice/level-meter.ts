/** The level of an audio stream, read from an AnalyserNode (browser only). */
import { rmsLevel } from './speaking-gate.ts';
import type { VoiceAudioContext, VoiceMediaStream } from './voice-dom.ts';

/** Samples per level reading: ~10 ms at 48 kHz, short enough to follow syllables. */
const ANALYSER_FFT_SIZE = 512;

/** A level meter on one stream. */
export interface LevelMeter {
  /** RMS level now, 0..1 of full scale. */
  level(): number;
  /** Disconnects the meter from the stream. */
  dispose(): void;
}

/**
 * Measures the level of `stream` in `context`. Chromium only feeds a remote WebRTC stream into Web Audio while the
 * stream also plays in a media element, so a muted element is kept for it (harmless for a local microphone).
 */
export function createLevelMeter(audioContext: VoiceAudioContext, mediaStream: VoiceMediaStream): LevelMeter {
  const context = audioContext as AudioContext;
  const stream = mediaStream as MediaStream;
  const source = context.createMediaStreamSource(stream);
  const analyser = context.createAnalyser();
  analyser.fftSize = ANALYSER_FFT_SIZE;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const element = typeof Audio === 'function' ? new Audio() : null;
  if (element) {
    element.muted = true;
    element.srcObject = stream;
    void element.play().catch(() => {});
  }
  return {
    level() {
      analyser.getFloatTimeDomainData(samples);
      return rmsLevel(samples);
    },
    dispose() {
      source.disconnect();
      if (element) element.srcObject = null;
    },
  };
}
