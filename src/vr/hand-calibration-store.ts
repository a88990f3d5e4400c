/**
 * Calibrations a receiver holds: the skeleton of each calibrated hand by network id, bounded (a full store refuses
 * new hands and counts them; a hand that leaves frees its slot). Both the server (to relay them) and every client
 * (to rebuild remote hands) keep one.
 */
import { CALIBRATION_VALUES, dequantizeHandShape } from './hand-calibration-codec.ts';
import { HandShape } from './hand-shape.ts';

/** One calibrated hand. */
export interface StoredCalibration {
  readonly netId: number;
  /** The client that owns the hand (server side; 0 on clients). */
  owner: number;
  readonly codes: Int16Array;
  readonly shape: HandShape;
  /** Bumped with each accepted change. */
  version: number;
}

/** How `apply` ended. */
export const CalibrationVerdict = { ok: 0, invalid: 1, full: 2 } as const;
export type CalibrationVerdictId = (typeof CalibrationVerdict)[keyof typeof CalibrationVerdict];

/** Bounded map of calibrated hands. */
export class HandCalibrationStore {
  readonly hands = new Map<number, StoredCalibration>();
  private readonly maxHands: number;
  private readonly check = new HandShape();

  constructor(maxHands: number) {
    this.maxHands = maxHands;
  }

  /** The skeleton of hand `netId`, or undefined when it has none. */
  shapeOf(netId: number): HandShape | undefined {
    return this.hands.get(netId)?.shape;
  }

  /** Validates calibration codes (codes[o..]) of hand `netId` and keeps them; an implausible hand changes nothing. */
  apply(netId: number, owner: number, codes: ArrayLike<number>, o: number): CalibrationVerdictId {
    const view = Array.prototype.slice.call(codes, o, o + CALIBRATION_VALUES) as number[];
    if (view.length !== CALIBRATION_VALUES || !dequantizeHandShape(view, this.check)) return CalibrationVerdict.invalid;
    let h = this.hands.get(netId);
    if (!h) {
      if (this.hands.size >= this.maxHands) return CalibrationVerdict.full;
      h = { netId, owner, codes: new Int16Array(CALIBRATION_VALUES), shape: new HandShape(), version: 0 };
      this.hands.set(netId, h);
    }
    h.owner = owner;
    h.codes.set(view);
    h.shape.copy(this.check);
    h.version++;
    return CalibrationVerdict.ok;
  }

  /** Forgets hand `netId`. */
  remove(netId: number): void {
    this.hands.delete(netId);
  }
}
