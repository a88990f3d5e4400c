/**
 * The components of the hand layer, created together for one world (sized by a capacity like the pose components).
 *
 * @example
 * const hands = createHandComponents(4096);
 * addHandTracking(world, { hands });
 */
import { createRenderHand, type RenderHand } from './render-hand.ts';
import { createTrackedHand, type TrackedHand } from './tracked-hand.ts';

/** The hand components of one world. */
export interface HandComponents {
  /** Entity capacity the arrays were sized for: entity ids must be below it. */
  readonly capacity: number;
  /** Owner input: tracked flag and joint poses of owned controller entities. */
  readonly TrackedHand: TrackedHand;
  /** Local output: the world-space joints to draw, for every hand. */
  readonly RenderHand: RenderHand;
}

/** Creates the hand components for entity ids below `capacity`. */
export function createHandComponents(capacity = 4096): HandComponents {
  return { capacity, TrackedHand: createTrackedHand(capacity), RenderHand: createRenderHand(capacity) };
}
