/**
 * The server's `fidelity` option: levels by distance from each client's viewpoint, each with a send interval and a
 * quantization coarsening, and its checks (each mistake a `Usage` NetError naming the fix). The logic that applies
 * the levels is in fidelity.ts.
 */
import { usageError } from '../errors.ts';
import type { NumericArray } from './compiled-field.ts';
import { MAX_LEVEL_SHIFT } from './delta-packer.ts';

/** One fidelity level: entities within `within` of a client's viewpoint (and beyond the previous level's). */
export interface FidelityLevel {
  /**
   * Upper bound of the level's distance band (inclusive), in the position's unit; levels go nearest first and
   * bounds must grow. The last level has none (it takes everything farther).
   */
  within?: number;
  /** Send interval: the entity's changes go to the client at most every `every`-th send tick (default 1, max 60). */
  every?: number;
  /**
   * Quantization step multiplier of the entity's quantized and quaternion fields (not those marked `exact`):
   * 1 (default), 2, 4, 8 or 16; each doubling drops one bit per value. A field keeps at least one bit (a
   * quaternion 4 per component). Once the entity stops, the client gets its full-precision value.
   */
  coarsen?: number;
}

/** A registered component holding positions, and the names of its x/y/z arrays. */
export interface FidelityPosition {
  /** The registered component. */
  component: object;
  /** Name of its x array. */
  x: string;
  /** Name of its y array. */
  y: string;
  /** Name of its z array. */
  z: string;
}

/**
 * Fidelity by distance (server option `fidelity`): remote entities farther from a client's viewpoint are sent to it
 * less often and with coarser quantization. Distance is from the client's viewpoint (its view entity's position, or
 * `setViewPosition`; or `origin`) to the entity's position; a client without a viewpoint, or an entity without a
 * position, is at level 0. Entities a client owns are never sent to it, so they have no level.
 *
 * @example
 * fidelity: {
 *   levels: [{ within: 3 }, { within: 10, every: 2, coarsen: 2 }, { every: 6, coarsen: 4 }],
 *   position: { component: Pose, x: 'px', y: 'py', z: 'pz' },
 * }
 */
export interface FidelityOptions {
  /** The levels, nearest first (1..8); level 0 is what a client gets of entities near it. */
  levels: readonly FidelityLevel[];
  /**
   * Where entities are: one position component, or several (the first one an entity has counts; e.g. the VR head
   * and controller poses). Default: the interest grid's position.
   */
  position?: FidelityPosition | readonly FidelityPosition[];
  /** The client's viewpoint: write it into `out` and return true, or return false for none. Default: see above. */
  origin?: (clientId: number, out: Float64Array) => boolean;
  /**
   * Chooses the level (an index into `levels`) of `eid` for `clientId` instead of the distance bands; `distance` is
   * NaN when unknown. A result that is not a valid index counts as level 0 (and is reported once, `FidelityLevel`).
   */
  level?: (clientId: number, eid: number, distance: number) => number;
  /**
   * Send ticks without a change after which an entity counts as stopped: every client holding a coarse value of
   * it is then sent its full-precision value (default 4, 1..600).
   */
  settleTicks?: number;
}

/** Most fidelity levels. */
export const MAX_FIDELITY_LEVELS = 8;
/** Longest send interval of a level: one send a second at 60 Hz. */
export const MAX_LEVEL_EVERY = 60;
/** Default send ticks without a change before an entity counts as stopped. */
export const DEFAULT_SETTLE_TICKS = 4;

/** A level as the server applies it. */
export interface ResolvedLevel {
  within: number;
  every: number;
  /** log2 of coarsen: the low bits dropped. */
  shift: number;
}

/** A position component resolved to its index and arrays. */
export interface ResolvedPosition {
  component: number;
  x: NumericArray;
  y: NumericArray;
  z: NumericArray;
}

/** The checked fidelity configuration. */
export interface FidelityConfig {
  levels: readonly ResolvedLevel[];
  positions: readonly ResolvedPosition[];
  origin: ((clientId: number, out: Float64Array) => boolean) | null;
  level: ((clientId: number, eid: number, distance: number) => number) | null;
  settleTicks: number;
}

function checkLevel(level: unknown, i: number, last: boolean, previous: number): ResolvedLevel {
  if (typeof level !== 'object' || level === null)
    usageError(`fidelity level ${i} is not an object`, 'pass e.g. { within: 10, every: 2, coarsen: 2 }');
  const l = level as FidelityLevel;
  const every = l.every ?? 1;
  if (!Number.isInteger(every) || every < 1 || every > MAX_LEVEL_EVERY)
    usageError(
      `fidelity level ${i}: every ${String(every)} is not an integer in 1..${MAX_LEVEL_EVERY}`,
      'pass e.g. every: 2',
    );
  const coarsen = l.coarsen ?? 1;
  const shift = Math.log2(coarsen);
  if (!Number.isInteger(shift) || shift < 0 || shift > MAX_LEVEL_SHIFT)
    usageError(
      `fidelity level ${i}: coarsen ${String(coarsen)} is not 1, 2, 4, 8 or 16`,
      'pass a power of two up to 16',
    );
  if (last) {
    if (l.within !== undefined && l.within !== Infinity)
      usageError(
        `the last fidelity level has a bound (within ${String(l.within)})`,
        'leave out its within: it takes everything farther',
      );
    return { within: Infinity, every, shift };
  }
  const within = l.within;
  if (typeof within !== 'number' || !Number.isFinite(within) || !(within > previous))
    usageError(
      `fidelity level ${i}: within ${String(within)} must be a finite number above ${previous}`,
      'give every level but the last a growing distance bound',
    );
  return { within, every, shift };
}

type FindComponent = (component: object) => number | undefined;

function checkPosition(p: unknown, find: FindComponent): ResolvedPosition {
  const pos = p as Partial<FidelityPosition> | null;
  const id = typeof pos === 'object' && pos !== null && pos.component ? find(pos.component) : undefined;
  if (id === undefined)
    usageError(
      'the fidelity position component is not registered',
      'pass { component, x, y, z } of a registered component',
    );
  const store = pos!.component as Record<string, NumericArray | undefined>;
  const axis = (key: unknown): NumericArray => {
    const a = typeof key === 'string' ? store[key] : undefined;
    if (!a || typeof a.length !== 'number')
      usageError(`the fidelity position component has no array '${String(key)}'`, 'name its x/y/z arrays');
    return a;
  };
  return { component: id, x: axis(pos!.x), y: axis(pos!.y), z: axis(pos!.z) };
}

/**
 * Checks `options` and resolves it; `find` maps a component store to its registered index, `grid` is the interest
 * grid's position (the default). Throws a `Usage` NetError on the first mistake.
 */
export function resolveFidelity(
  options: FidelityOptions,
  find: FindComponent,
  grid: ResolvedPosition | null,
): FidelityConfig {
  if (typeof options !== 'object' || options === null)
    usageError('fidelity must be an object', 'pass { levels: [{ within: 3 }, { every: 4, coarsen: 4 }] }');
  const levels = options.levels as unknown;
  if (!Array.isArray(levels) || levels.length === 0 || levels.length > MAX_FIDELITY_LEVELS)
    usageError(`fidelity needs 1..${MAX_FIDELITY_LEVELS} levels`, 'pass levels nearest first, the last without within');
  const resolved: ResolvedLevel[] = [];
  let previous = 0;
  for (let i = 0; i < levels.length; i++) {
    const l = checkLevel(levels[i], i, i === levels.length - 1, previous);
    resolved.push(l);
    previous = l.within;
  }
  if (options.origin !== undefined && typeof options.origin !== 'function')
    usageError('fidelity origin must be a function', 'pass (clientId, out) => { out[0] = x; ...; return true; }');
  if (options.level !== undefined && typeof options.level !== 'function')
    usageError('fidelity level must be a function', 'pass (clientId, eid, distance) => levelIndex');
  const settleTicks = options.settleTicks ?? DEFAULT_SETTLE_TICKS;
  if (!Number.isInteger(settleTicks) || settleTicks < 1 || settleTicks > 600)
    usageError(`fidelity settleTicks ${String(settleTicks)} is not an integer in 1..600`, 'pass e.g. 4');
  const given = options.position;
  const list = given === undefined ? [] : Array.isArray(given) ? given : [given];
  const positions = list.map((p) => checkPosition(p, find));
  if (given === undefined && grid !== null) positions.push(grid);
  if (positions.length === 0 && options.level === undefined)
    usageError(
      'fidelity levels by distance need positions',
      'pass fidelity.position ({ component, x, y, z }), configure interest.grid, or choose levels with fidelity.level',
    );
  return {
    levels: resolved,
    positions,
    origin: options.origin ?? null,
    level: options.level ?? null,
    settleTicks,
  };
}
