import type { PoseWorkload, PoseWorkloadOptions } from './workload.ts';

/** What one timed tick of a method produced. */
export interface TickResult {
  /** Bytes this tick would put on the wire for one client (0 for a floor that encodes nothing). */
  bytes: number;
}

/**
 * One compared method bound to its own workload. The family calls, in order: `setup()` once, then per tick
 * `workload.step()`, `beforeTick?.()`, the timed `tick()`, and (only during the first few ticks) `check()`.
 */
export interface MethodRun {
  /** Untimed: builds the method's state and emits the initial full state, so the next tick encodes only changes. */
  setup(): void;
  /** Untimed, optional: runs after each workload step, before the timed tick (e.g. the floor refreshes its shadow). */
  beforeTick?(): void;
  /** Timed: this tick's change detection and encoding of the workload's state. */
  tick(): TickResult;
  /**
   * Untimed: decodes the initial state and the last tick's output on a receiver and returns the largest absolute
   * difference between receiver and sender poses. Call it after every tick from the first one on, or stop calling it.
   */
  check(): number;
}

/** A method of keeping a client's copy of the workload's poses up to date, compared in the tick-cost family. */
export interface TickMethod {
  /** Stable id used in JSON and tables: 'memcmp', 'bitecs-soa', 'colyseus-schema', 'msgpack', 'ecsync'... */
  readonly name: string;
  /** One line saying what exactly is timed. */
  readonly description: string;
  /** True for a lower bound that encodes nothing (bytes are not reported). */
  readonly floor?: boolean;
  /** Largest receiver error `check()` may report: 0 for lossless float32, the quantum for a quantizing codec. */
  readonly tolerance: number;
  /** How the method's workload allocates its Pose (default: user-owned Float32Arrays, like every baseline). */
  readonly workload?: Pick<PoseWorkloadOptions, 'storage' | 'wasm'>;
  /** Binds the method to a fresh workload (each method gets its own world, stepped with the same seed). */
  create(workload: PoseWorkload): MethodRun;
}
