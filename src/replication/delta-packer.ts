/**
 * Packing pending field changes into one Delta that fits the packet budget, and reading Delta bodies back.
 * The parts live in delta-scratch.ts (shared buffers), delta-writer.ts (packing) and delta-reader.ts (reading);
 * this module re-exports them so existing imports keep working.
 */
export { createPackScratch } from './delta-scratch.ts';
export type { PackScratch } from './delta-scratch.ts';
export { MAX_LEVEL_SHIFT, writeDelta } from './delta-writer.ts';
export type { DeltaHeader, FidelityPlan } from './delta-writer.ts';
export { applyEntityUpdates, openDelta, readDeltaHeader } from './delta-reader.ts';
export type { ApplyOptions, ApplyResult, DeltaInfo, WriteFilter } from './delta-reader.ts';
