import { assetsFamily } from './assets.bench.ts';
import { attackFamily } from './attack.bench.ts';
import { awarenessFamily } from './awareness.bench.ts';
import { catchUpFamily } from './catch-up.bench.ts';
import type { BenchFamily } from './bench-family.ts';
import { ecsyncMethod } from './ecsync-method.ts';
import { ECSYNC_VARIANT_METHODS } from './ecsync-variants.ts';
import { handsFamily } from './hands.bench.ts';
import { interestScaleFamily } from './interest-scale.bench.ts';
import { vrQualityFamily } from './vr-quality.bench.ts';
import { poseBytesFamily } from './pose-bytes.bench.ts';
import { roomBandwidthFamily } from './room-bandwidth.bench.ts';
import { scaleOutFamily } from './scale-out.bench.ts';
import { shortStringsFamily } from './short-strings.bench.ts';
import { BASELINE_TICK_METHODS, createTickCostFamily } from './tick-cost.bench.ts';
import { transportFamily } from './transport.bench.ts';

/**
 * Every benchmark family, in run order: tick cost (ecsync against the baselines), pose bytes, room bandwidth,
 * VR quality, scale (interest per client), transport capacity, short strings, awareness, assets, scale-out (Redis
 * and room processes), hands, catch-up, then the attacks.
 */
export const BENCH_FAMILIES: readonly BenchFamily[] = [
  createTickCostFamily([...BASELINE_TICK_METHODS, ecsyncMethod], ECSYNC_VARIANT_METHODS),
  poseBytesFamily,
  roomBandwidthFamily,
  vrQualityFamily,
  interestScaleFamily,
  transportFamily,
  shortStringsFamily,
  awarenessFamily,
  assetsFamily,
  scaleOutFamily,
  handsFamily,
  catchUpFamily,
  attackFamily,
];
