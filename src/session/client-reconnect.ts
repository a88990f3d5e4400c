/**
 * How a client (re)opens its link: one `ClientTransport.connect()` at a time, a timeout on it, and exponential
 * backoff with jitter between failed attempts. Timers are polled from the session's `receive()`, so a manual
 * clock drives them; a connect that resolves after it was abandoned has its link closed at once.
 */
import type { Clock } from '../clock.ts';
import { createRandom, type Random } from '../random.ts';
import type { ClientTransport, Link } from '../transport/transport.ts';
import { randomSeed } from './identity.ts';
import { backoffDelayMs, CONNECT_TIMEOUT_MS, type ReconnectOptions, resolveReconnect } from './session-options.ts';

/** What the reconnector reports to its session. */
export interface ReconnectHost {
  /** A connect succeeded: use this link. */
  attach(link: Link): void;
  /** A connect failed and another one is scheduled (for reporting). */
  retrying(why: string): void;
  /** No more attempts (none allowed, or maxAttempts reached). */
  givenUp(why: string): void;
}

/** Connect attempts of one client session. */
export class Reconnector {
  /** Failed attempts since the last success. */
  attempt = 0;
  private readonly policy: ReturnType<typeof resolveReconnect> | null;
  private readonly random: Random;
  private attemptId = 0;
  private nextAttemptAtMs = -1;
  private connectStartedAtMs = -1;

  constructor(
    private readonly transport: ClientTransport | undefined,
    options: ReconnectOptions | false | undefined,
    private readonly clock: Clock,
    private readonly host: ReconnectHost,
  ) {
    this.policy = options === false ? null : resolveReconnect(options);
    this.random = createRandom(options !== false && options?.seed !== undefined ? options.seed : randomSeed());
  }

  /** True when a lost link can be replaced (a transport and reconnecting allowed). */
  get canReconnect(): boolean {
    return this.transport !== undefined && this.policy !== null;
  }

  /** True while a connect is in flight or scheduled. */
  get busy(): boolean {
    return this.connectStartedAtMs >= 0 || this.nextAttemptAtMs >= 0;
  }

  /** Starts a connect now. */
  open(): void {
    const transport = this.transport;
    if (!transport) return;
    const id = ++this.attemptId;
    this.nextAttemptAtMs = -1;
    this.connectStartedAtMs = this.clock.now();
    let pending: Promise<Link>;
    try {
      pending = transport.connect();
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      (link) => {
        if (id !== this.attemptId) {
          link.close('abandoned');
          return;
        }
        this.connectStartedAtMs = -1;
        this.host.attach(link);
      },
      (e: unknown) => {
        if (id !== this.attemptId) return;
        this.connectStartedAtMs = -1;
        this.failed(`could not connect: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }

  /** An attempt failed or the link was lost: schedule the next attempt with backoff, or give up. */
  failed(why: string): void {
    const policy = this.policy;
    if (!policy || !this.transport) {
      this.host.givenUp(why);
      return;
    }
    if (this.attempt >= policy.maxAttempts) {
      this.host.givenUp(`${why}; gave up after ${this.attempt} attempts`);
      return;
    }
    this.host.retrying(why);
    this.nextAttemptAtMs = this.clock.now() + backoffDelayMs(this.attempt++, policy, this.random.next());
  }

  /** Runs due attempts and times out a connect that hangs. */
  poll(now: number): void {
    if (this.connectStartedAtMs >= 0) {
      if (now - this.connectStartedAtMs >= CONNECT_TIMEOUT_MS) {
        this.cancel();
        this.failed(`connect did not finish within ${CONNECT_TIMEOUT_MS} ms`);
      }
    } else if (this.nextAttemptAtMs >= 0 && now >= this.nextAttemptAtMs) this.open();
  }

  /** Abandons whatever is in flight or scheduled. */
  cancel(): void {
    this.attemptId++;
    this.nextAttemptAtMs = -1;
    this.connectStartedAtMs = -1;
  }

  /** A Welcome arrived: the next loss starts the backoff from the beginning. */
  succeeded(): void {
    this.attempt = 0;
  }
}
