import type { BenchFamily } from './bench-family.ts';
import { BASELINE_TICK_METHODS, createTickCostFamily } from './tick-cost.bench.ts';

/**
 * Every benchmark family, in run order. Add ecsync as `createTickCostFamily([...BASELINE_TICK_METHODS, ecsyncMethod])`
 * and append the pose-bytes, VR-quality, scale and transport families here.
 */
export const BENCH_FAMILIES: readonly BenchFamily[] = [createTickCostFamily(BASELINE_TICK_METHODS)];
