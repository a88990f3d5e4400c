/** The speaking flag's debounce and the level it reads (the browser parts run in test/e2e/room-voice.test.ts). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEAKING_HOLD_MS, DEFAULT_SPEAKING_THRESHOLD, rmsLevel, SpeakingGate } from '../../src/index.ts';

describe('rmsLevel', () => {
  it('is 0 for silence and for no samples, the amplitude over sqrt 2 for a sine', () => {
    expect(rmsLevel(new Float32Array(512))).toBe(0);
    expect(rmsLevel(new Float32Array(0))).toBe(0);
    const sine = Float32Array.from({ length: 480 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * i) / 48));
    expect(rmsLevel(sine)).toBeCloseTo(0.5 / Math.SQRT2, 4);
  });
});

describe('SpeakingGate', () => {
  it('turns on above the threshold and off only after the level stayed below it for the hold time', () => {
    const gate = new SpeakingGate(DEFAULT_SPEAKING_THRESHOLD, DEFAULT_SPEAKING_HOLD_MS);
    expect(gate.update(0.001, 0)).toBe(false);
    expect(gate.speaking).toBe(false);
    expect(gate.update(0.1, 10)).toBe(true);
    expect(gate.speaking).toBe(true);
    // A pause between words shorter than the hold keeps the flag on (no flicker).
    expect(gate.update(0, 10 + DEFAULT_SPEAKING_HOLD_MS - 1)).toBe(false);
    expect(gate.update(0.1, 10 + DEFAULT_SPEAKING_HOLD_MS)).toBe(false);
    expect(gate.speaking).toBe(true);
    const lastLoud = 10 + DEFAULT_SPEAKING_HOLD_MS;
    expect(gate.update(0, lastLoud + DEFAULT_SPEAKING_HOLD_MS)).toBe(false);
    expect(gate.update(0, lastLoud + DEFAULT_SPEAKING_HOLD_MS + 1)).toBe(true);
    expect(gate.speaking).toBe(false);
  });

  it('a level exactly at the threshold is not speech; reset turns the flag off at once (mute)', () => {
    const gate = new SpeakingGate(0.02, 300);
    expect(gate.update(0.02, 0)).toBe(false);
    gate.update(0.5, 1);
    expect(gate.reset()).toBe(true);
    expect(gate.speaking).toBe(false);
    expect(gate.reset()).toBe(false);
    expect(gate.update(0, 2)).toBe(false);
  });
});
