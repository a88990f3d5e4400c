/**
 * How tracked poses are quantized, on the pose stream (owner to server) and in the replicated components (server to
 * everyone else) alike, so a value survives both paths bit for bit.
 */
import { dequantize, quantize, quantizedBits, quantizedSteps } from '../codec/quantize.ts';
import { packQuat, unpackQuat } from '../codec/quaternion.ts';
import { DEFAULT_QUAT_BITS } from '../protocol/field-schema.ts';

/** Ranges and precisions of pose quantities. */
export interface PoseQuantization {
  /** Position range per axis in metres and its step. */
  readonly positionMin: number;
  /** Largest position per axis, in metres. */
  readonly positionMax: number;
  /** Step of positions, in metres. */
  readonly positionPrecision: number;
  /** Bits per smallest-three component (10 = ~0.1 degree typical error, 32 bits per rotation). */
  readonly quatBits: number;
  /** Linear velocity range (+-, m/s) and step. */
  readonly velocityMax: number;
  /** Step of linear velocities, in m/s. */
  readonly velocityPrecision: number;
  /** Angular velocity range (+-, rad/s) and step. */
  readonly angularMax: number;
  /** Step of angular velocities, in rad/s. */
  readonly angularPrecision: number;
}

/**
 * Defaults: +-32 m at 1 mm (16 bits per axis, a large room-scale space around the origin); 10-bit smallest-three;
 * velocities are coarser than positions because they only steer extrapolation: +-10 m/s at 1 cm/s (a fast punch is
 * ~8 m/s) and +-40 rad/s at 0.04 rad/s (a wrist flick peaks near 30 rad/s), 11 bits each.
 */
export const DEFAULT_POSE_QUANTIZATION: PoseQuantization = {
  positionMin: -32,
  positionMax: 32,
  positionPrecision: 0.001,
  quatBits: DEFAULT_QUAT_BITS,
  velocityMax: 10,
  velocityPrecision: 0.01,
  angularMax: 40,
  angularPrecision: 0.04,
};

/** Bit widths derived from a quantization. */
export interface PoseBits {
  readonly position: number;
  readonly velocity: number;
  readonly angular: number;
  /** Packed rotation: 2 + 3 x quatBits. */
  readonly rotation: number;
}

/** Bit widths of `q`'s quantities. */
export function poseBits(q: PoseQuantization): PoseBits {
  return {
    position: quantizedBits(q.positionMin, q.positionMax, q.positionPrecision),
    velocity: quantizedBits(-q.velocityMax, q.velocityMax, q.velocityPrecision),
    angular: quantizedBits(-q.angularMax, q.angularMax, q.angularPrecision),
    rotation: 2 + 3 * q.quatBits,
  };
}

/** Converts pose quantities to their wire integers and back, for one quantization. */
export class PoseQuantizer {
  readonly quantization: PoseQuantization;
  readonly bits: PoseBits;
  /** Largest position step, velocity step and angular step (quantized ranges are 0..max). */
  readonly positionSteps: number;
  readonly velocitySteps: number;
  readonly angularSteps: number;

  constructor(quantization: PoseQuantization) {
    const q = quantization;
    this.quantization = q;
    this.bits = poseBits(q);
    this.positionSteps = quantizedSteps(q.positionMin, q.positionMax, q.positionPrecision);
    this.velocitySteps = quantizedSteps(-q.velocityMax, q.velocityMax, q.velocityPrecision);
    this.angularSteps = quantizedSteps(-q.angularMax, q.angularMax, q.angularPrecision);
  }

  /** Quantizes a position coordinate (m). */
  quantizePosition(x: number): number {
    const q = this.quantization;
    return quantize(x, q.positionMin, q.positionMax, q.positionPrecision);
  }

  /** Position coordinate (m) of a quantized step. */
  dequantizePosition(v: number): number {
    const q = this.quantization;
    return dequantize(v, q.positionMin, q.positionMax, q.positionPrecision);
  }

  /** Packs a rotation as smallest three. */
  packRotation(x: number, y: number, z: number, w: number): number {
    return packQuat(x, y, z, w, this.quantization.quatBits);
  }

  /** Unpacks a rotation into out[o..o+3]. */
  unpackRotation(packed: number, out: Float64Array, o = 0): void {
    unpackQuat(packed, this.quantization.quatBits, out, o);
  }

  /** Quantizes a linear (k < 3) or angular (k >= 3) velocity component. */
  quantizeVelocity(v: number, k: number): number {
    const q = this.quantization;
    return k < 3
      ? quantize(v, -q.velocityMax, q.velocityMax, q.velocityPrecision)
      : quantize(v, -q.angularMax, q.angularMax, q.angularPrecision);
  }

  /** Velocity component of a quantized step (linear for k < 3, angular otherwise). */
  dequantizeVelocity(v: number, k: number): number {
    const q = this.quantization;
    return k < 3
      ? dequantize(v, -q.velocityMax, q.velocityMax, q.velocityPrecision)
      : dequantize(v, -q.angularMax, q.angularMax, q.angularPrecision);
  }
}
