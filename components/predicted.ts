/** Tag: this tracked device is owned here and rendered predicted (zero added latency, corrections blended in). */
export type Predicted = Record<string, never>;

/** Creates the Predicted tag (one per set of pose components, so several worlds in one process stay apart). */
export function createPredicted(): Predicted {
  return {};
}
