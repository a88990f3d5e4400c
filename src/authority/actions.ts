/**
 * Actions: a client sends `Action {opId, action}`; the server's handler runs it (sync or async) and answers
 * `Progress` (optional, any number), then `ActionOk {result}` or `ActionErr {code, message}`. On the client, `act`
 * may apply the action optimistically at once and rolls it back if the server says no (or never answers).
 */
import { isThenable } from '../thenable.ts';
import { clampPercent, MAX_ERROR_CODE_LENGTH, MAX_STATUS_LENGTH } from './app-wire.ts';
import type { ActionErrBody, ActionOkBody, ProgressBody } from './app-wire.ts';
import type { WriteOutcome } from '../replication/gated-write.ts';

/** Actions one client may have in flight on the server: a UI rarely has more than a few; bounds a flood. */
export const MAX_ACTIONS_IN_FLIGHT = 64;

/** Default time a client waits for an action's answer before failing it with 'timeout' (and rolling back). */
export const DEFAULT_ACTION_TIMEOUT_MS = 30_000;

/** An action refused by the handler: `code` is for programs, `message` for people. Throw it from a handler. */
export class ActionError extends Error {
  /** Machine-readable reason for programs (cut to the longest code the wire allows); `message` is for people. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ActionError';
    this.code = code.slice(0, MAX_ERROR_CODE_LENGTH);
  }
}

/** What a server handler is given. */
export interface ActionContext {
  /** Client id of the client that sent the action. */
  readonly clientId: number;
  /** That client's role at the time (e.g. `participant`). */
  readonly role: string;
  /** The client's operation id of this action (> 0), unique among its actions in flight. */
  readonly opId: number;
  /** The action as the client sent it: validate it before use. */
  readonly action: unknown;
  /** Reports progress to the client (percent clamped to 0..100). */
  progress(percent?: number, message?: string): void;
  /**
   * Writes `values` (store array name → value) to `component` of `eid` as this client, through the write gate:
   * the rules of its own writes apply, and a refused write changes nothing.
   */
  write(eid: number, component: object, values: Readonly<Record<string, number>>): WriteOutcome;
}

/** Runs one action; returns (or resolves to) its result, or throws an `ActionError`. */
export type ActionHandler = (ctx: ActionContext) => unknown;

/** Where the runner's answers go. */
export interface ActionSink {
  progress(clientId: number, body: ProgressBody): void;
  ok(clientId: number, body: ActionOkBody): void;
  err(clientId: number, body: ActionErrBody): void;
  /** A handler failed with something other than an ActionError (reported, not shown to the client). */
  failed(clientId: number, opId: number, error: unknown): void;
  /** Writes through the write gate for `clientId` (see `ActionContext.write`); without it every write is refused. */
  write?(clientId: number, eid: number, component: object, values: Readonly<Record<string, number>>): WriteOutcome;
}

/** Server side: runs actions through the handler and answers them. */
export class ActionRunner {
  readonly counters = {
    /** Actions received. */
    received: 0,
    /** Actions answered with ActionOk. */
    ok: 0,
    /** Actions answered with ActionErr. */
    err: 0,
  };
  private readonly inFlight = new Map<number, Set<number>>();

  constructor(
    private readonly handler: ActionHandler | null,
    private readonly sink: ActionSink,
  ) {}

  /** Runs an action from `clientId`. */
  run(clientId: number, role: string, opId: number, action: unknown): void {
    this.counters.received++;
    let ops = this.inFlight.get(clientId);
    if (ops?.has(opId)) return this.fail(clientId, opId, 'duplicate', `action ${opId} is already running`);
    if (ops && ops.size >= MAX_ACTIONS_IN_FLIGHT)
      return this.fail(clientId, opId, 'busy', `more than ${MAX_ACTIONS_IN_FLIGHT} actions in flight`);
    if (!this.handler) return this.fail(clientId, opId, 'unsupported', 'this server handles no actions');
    if (!ops) this.inFlight.set(clientId, (ops = new Set()));
    ops.add(opId);
    let done = false;
    const ctx: ActionContext = {
      clientId,
      role,
      opId,
      action,
      progress: (percent, message) => {
        if (done || !this.isRunning(clientId, opId)) return;
        const body: ProgressBody = { opId };
        if (typeof percent === 'number') body.percent = clampPercent(percent);
        if (typeof message === 'string') body.message = message.slice(0, MAX_STATUS_LENGTH);
        this.sink.progress(clientId, body);
      },
      write: (eid, component, values) =>
        this.sink.write?.(clientId, eid, component, values) ?? { verdict: 'refused', reason: 'no write gate' },
    };
    const finish = (ok: boolean, value: unknown) => {
      if (done) return;
      done = true;
      if (!this.isRunning(clientId, opId)) return; // the client left meanwhile
      this.inFlight.get(clientId)?.delete(opId);
      if (ok) {
        this.counters.ok++;
        this.sink.ok(clientId, value === undefined ? { opId } : { opId, result: value });
      } else if (value instanceof ActionError) this.fail(clientId, opId, value.code, value.message);
      else {
        this.sink.failed(clientId, opId, value);
        this.fail(clientId, opId, 'internal', 'the server could not run this action');
      }
    };
    let result: unknown;
    try {
      result = this.handler(ctx);
    } catch (e) {
      finish(false, e);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (v) => finish(true, v),
        (e: unknown) => finish(false, e),
      );
    } else finish(true, result);
  }

  private isRunning(clientId: number, opId: number): boolean {
    return this.inFlight.get(clientId)?.has(opId) ?? false;
  }

  private fail(clientId: number, opId: number, code: string, message: string): void {
    this.counters.err++;
    this.sink.err(clientId, { opId, code, message: message.slice(0, MAX_STATUS_LENGTH) });
  }

  /** A client left for good: answers still running for it are dropped. */
  forget(clientId: number): void {
    this.inFlight.delete(clientId);
  }
}

/** Why an action failed on the client: the server's code and message ('timeout' and 'disconnected' are local). */
export class ActionFailure extends Error {
  /** The server's error code, or the local `timeout` / `disconnected`. */
  readonly code: string;

  /** `cause`: what the rollback threw, if it did (the failure is reported all the same). */
  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ActionFailure';
    this.code = code;
  }
}

/** Options of one `act` call. */
export interface ActOptions {
  /** Applies the action locally at once; returns the function that undoes it (called on ActionErr or timeout). */
  optimistic?: () => (() => void) | void;
  /** Progress reports from the server. */
  onProgress?: (percent: number | undefined, message: string | undefined) => void;
  /** Time to wait for the answer (default DEFAULT_ACTION_TIMEOUT_MS). */
  timeoutMs?: number;
}

interface InFlight {
  resolve: (result: unknown) => void;
  reject: (error: ActionFailure) => void;
  rollback: (() => void) | null;
  onProgress: ActOptions['onProgress'];
  deadlineMs: number;
}

/** Client side: actions waiting for their answer. */
export class ActionTracker {
  private nextOpId = 1;
  private readonly inFlight = new Map<number, InFlight>();

  /** Registers a new action; returns its op id and the promise of its result. Applies it optimistically if asked. */
  start(nowMs: number, options: ActOptions = {}): { opId: number; result: Promise<unknown> } {
    // Applied first: if it throws, nothing is registered and the caller sees the throw.
    const undo = options.optimistic?.();
    const opId = this.nextOpId;
    this.nextOpId = this.nextOpId >= 0xffff_ffff ? 1 : this.nextOpId + 1;
    let entry!: InFlight;
    const result = new Promise<unknown>((resolve, reject) => {
      entry = {
        resolve,
        reject,
        rollback: typeof undo === 'function' ? undo : null,
        onProgress: options.onProgress,
        deadlineMs: nowMs + (options.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS),
      };
    });
    this.inFlight.set(opId, entry);
    return { opId, result };
  }

  /** Number of actions waiting for an answer. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** A Progress report from the server. */
  progress(body: ProgressBody): void {
    this.inFlight.get(body.opId)?.onProgress?.(body.percent, body.message);
  }

  /** The action succeeded: its promise resolves with the result. */
  ok(body: ActionOkBody): void {
    const a = this.inFlight.get(body.opId);
    if (!a) return;
    this.inFlight.delete(body.opId);
    a.resolve(body.result);
  }

  /** The action failed: roll back, then reject. */
  err(body: ActionErrBody): void {
    this.fail(body.opId, body.code, body.message);
  }

  /** Fails every action past its deadline. */
  expire(nowMs: number): void {
    for (const [opId, a] of this.inFlight) if (nowMs >= a.deadlineMs) this.fail(opId, 'timeout', 'no answer in time');
  }

  /** Fails every action (the session ended). */
  failAll(code: string, message: string): void {
    for (const opId of [...this.inFlight.keys()]) this.fail(opId, code, message);
  }

  private fail(opId: number, code: string, message: string): void {
    const a = this.inFlight.get(opId);
    if (!a) return;
    this.inFlight.delete(opId);
    let cause: unknown;
    try {
      a.rollback?.();
    } catch (e) {
      // A throwing rollback must not throw into the receive loop; the caller sees it as the failure's cause.
      cause = e;
    }
    a.reject(new ActionFailure(code, message, cause));
  }
}
