/** Tag: this tracked device belongs to someone else and is rendered interpolated behind the server's timeline. */
export type Interpolated = Record<string, never>;

/** Creates the Interpolated tag (one per set of pose components, so several worlds in one process stay apart). */
export function createInterpolated(): Interpolated {
  return {};
}
