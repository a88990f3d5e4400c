/**
 * Connection attempts of the geckos.io server transport, between the signalling request and the open data channel:
 * which local address ICE binds to for each attempt, a bound on attempts in flight, a deadline, and a reason for
 * every attempt that fails (reported, never thrown). Built against @geckos.io/server 3.1.0's ConnectionsManager,
 * whose `createConnection` it wraps (its internals are reached here only).
 */
import type http from 'node:http';
import { bindAddressFor, explain, plainAddress, sampleOf } from './geckos-attempt-state.ts';
import type { AttemptSample, NativePeerConnection } from './geckos-attempt-state.ts';

/** How long an attempt may take from the signalling request to the open channel before it is closed and reported. */
export const GECKOS_SERVER_CONNECT_TIMEOUT_MS = 15_000; // longer than a client's own 10 s wait: never cut one short

/** Attempts in flight at once; more answer HTTP 503. Each holds a native peer connection and its UDP socket. */
export const GECKOS_MAX_PENDING_ATTEMPTS = 256;

/** How often the state of pending attempts is sampled, so a failure report says where the attempt stood. */
const SAMPLE_INTERVAL_MS = 250;

/** Why a WebRTC connection attempt did not become a link, for the server's log. */
export interface GeckosConnectFailure {
  /** geckos.io's connection id, or '' when signalling failed before one was made. */
  id: string;
  /** Address of the client's signalling request. */
  remoteAddress: string;
  /** The local address ICE was bound to, or 'every interface'. */
  boundTo: string;
  /** What went wrong, in words, with the fix when there is one. */
  reason: string;
  /** Time from the signalling request to the failure. */
  elapsedMs: number;
  /** Peer connection, ICE and gathering state last seen, and the number of local candidates gathered. */
  state: string;
  /** ICE connection state last seen (RTCPeerConnection.iceConnectionState). */
  iceState: string;
  /** ICE gathering state last seen (RTCPeerConnection.iceGatheringState). */
  gatheringState: string;
  /** Local ICE candidates gathered. */
  localCandidates: number;
}

/** Counters of the attempts, for stats. */
export interface GeckosAttemptCounters {
  /** Attempts between signalling and the open channel now. */
  pending: number;
  /** Attempts that failed (each also reported). */
  failed: number;
  /** Signalling requests answered 503 because `maxPendingAttempts` were in flight. */
  refusedBusy: number;
}

/** The members of @geckos.io/server 3.1.0's ConnectionsManagerServer (and its connections) used here. */
interface GeckosManagerInternals {
  options: Record<string, unknown>;
  connections: Map<string, { peerConnection?: NativePeerConnection | null; close(state?: string): Promise<void> }>;
  createConnection(
    authorization: string | undefined,
    request: http.IncomingMessage,
    response: http.OutgoingMessage,
  ): Promise<{ status: number; connection?: { id?: string } }>;
}

interface Attempt {
  readonly id: string;
  readonly remoteAddress: string;
  readonly boundTo: string;
  readonly startedAt: number;
  readonly peerConnection: NativePeerConnection;
  readonly timer: NodeJS.Timeout;
  sample: AttemptSample;
}

/** Settings of `watchGeckosAttempts`. */
export interface GeckosAttemptOptions {
  /** ICE bind address from the options; undefined: loopback for clients on this machine, else every interface. */
  bindAddress: string | undefined;
  connectTimeoutMs: number;
  maxPendingAttempts: number;
  onFailure: ((failure: GeckosConnectFailure) => void) | undefined;
}

/** The watch over one geckos.io server's attempts. */
export interface GeckosAttempts {
  readonly counters: Readonly<GeckosAttemptCounters>;
  /** The attempt's data channel opened: it is a link now. */
  opened(id: string): void;
  /** Stops watching (the transport closes). */
  dispose(): void;
}

/**
 * Wraps the geckos.io server's connection manager (see the file comment). `opened` and `ended` come from the
 * transport, which sees geckos.io's connection and disconnect events.
 */
export function watchGeckosAttempts(manager: unknown, options: GeckosAttemptOptions): GeckosAttempts {
  const internals = manager as GeckosManagerInternals;
  const original = internals.createConnection;
  const pending = new Map<string, Attempt>();
  /** Requests inside geckos.io's createConnection (not registered yet). */
  let signalling = 0;
  const counters: GeckosAttemptCounters = { pending: 0, failed: 0, refusedBusy: 0 };
  let sampler: NodeJS.Timeout | null = null;

  const report = (failure: Omit<GeckosConnectFailure, 'elapsedMs'>, startedAt: number): void => {
    counters.failed++;
    options.onFailure?.({ ...failure, elapsedMs: Math.round(performance.now() - startedAt) });
  };
  const forget = (attempt: Attempt): void => {
    clearTimeout(attempt.timer);
    pending.delete(attempt.id);
    counters.pending = pending.size;
    if (pending.size === 0 && sampler !== null) {
      clearInterval(sampler);
      sampler = null;
    }
  };
  const fail = (attempt: Attempt, ending: string): void => {
    forget(attempt);
    const { answered: _answered, ...sample } = attempt.sample;
    report(
      {
        id: attempt.id,
        remoteAddress: attempt.remoteAddress,
        boundTo: attempt.boundTo,
        reason: explain(attempt.sample, attempt.boundTo, ending),
        ...sample,
      },
      attempt.startedAt,
    );
  };
  const sampleAll = (): void => {
    for (const attempt of pending.values()) attempt.sample = sampleOf(attempt.peerConnection, attempt.sample);
  };

  internals.createConnection = async function createConnection(authorization, request, response) {
    const startedAt = performance.now();
    const remoteAddress = plainAddress(request.socket.remoteAddress);
    const bindAddress = bindAddressFor(request, options.bindAddress);
    const boundTo = bindAddress ?? 'every interface';
    const refused = (status: number, reason: string) => {
      report(
        {
          id: '',
          remoteAddress,
          boundTo,
          reason,
          state: 'new',
          iceState: 'new',
          gatheringState: 'new',
          localCandidates: 0,
        },
        startedAt,
      );
      return { status };
    };
    // Signalling in progress counts too: concurrent requests all pass this check before the first is registered.
    if (pending.size + signalling >= options.maxPendingAttempts) {
      counters.refusedBusy++;
      return refused(503, `refused: ${pending.size + signalling} attempts already in flight (maxPendingAttempts)`);
    }
    // The same manager, with this request's bind address: geckos.io reads its options once per connection.
    const scoped = Object.create(internals, {
      options: { value: { ...internals.options, bindAddress } },
    }) as GeckosManagerInternals;
    let answer: Awaited<ReturnType<GeckosManagerInternals['createConnection']>>;
    signalling++;
    try {
      answer = await original.call(scoped, authorization, request, response);
    } catch (error) {
      return refused(500, `signalling failed: ${(error as Error)?.message ?? String(error)}`);
    } finally {
      signalling--;
    }
    const id = answer.connection?.id;
    const connection = id === undefined ? undefined : internals.connections.get(id);
    const peerConnection = connection?.peerConnection;
    if (answer.status !== 200 || id === undefined || !connection || !peerConnection) {
      const why =
        answer.status === 401 || answer.status === 403
          ? `refused by the authorization hook (HTTP ${answer.status})`
          : `signalling failed (HTTP ${answer.status}): the native peer connection could not be created`;
      refused(answer.status, why);
      return answer;
    }
    const attempt: Attempt = {
      id,
      remoteAddress,
      boundTo,
      startedAt,
      peerConnection,
      sample: sampleOf(peerConnection, null),
      timer: setTimeout(() => {
        if (pending.get(id) !== attempt) return;
        attempt.sample = sampleOf(peerConnection, attempt.sample);
        fail(attempt, `no data channel within ${options.connectTimeoutMs} ms`);
        connection.close('failed').catch(() => {});
      }, options.connectTimeoutMs),
    };
    pending.set(id, attempt);
    counters.pending = pending.size;
    // The client's answer arrives through geckos.io's remote-description route: note it when it does. (The native
    // method is read-only on the prototype; an own property shadows it.)
    const setRemoteDescription = peerConnection.setRemoteDescription.bind(peerConnection);
    Object.defineProperty(peerConnection, 'setRemoteDescription', {
      value: (sdp: string, type: string) => {
        attempt.sample.answered = true;
        setRemoteDescription(sdp, type);
      },
    });
    // geckos.io closes a connection whose peer connection fails or closes, and says so on its channel.
    (connection as { channel?: { onDisconnect(callback: (state: string) => void): void } }).channel?.onDisconnect(
      (state) => ended(id, String(state)),
    );
    // Neither timer keeps the process alive: the HTTP server and the peer connections do that while they are up.
    attempt.timer.unref();
    sampler ??= setInterval(sampleAll, SAMPLE_INTERVAL_MS).unref();
    return answer;
  };

  function ended(id: string, state: string): void {
    const attempt = pending.get(id);
    if (!attempt) return;
    attempt.sample = sampleOf(attempt.peerConnection, attempt.sample);
    fail(attempt, state === 'closed' ? 'closed before its data channel opened' : `peer connection ${state}`);
  }

  return {
    counters,
    opened(id) {
      const attempt = pending.get(id);
      if (attempt) forget(attempt);
    },
    dispose() {
      internals.createConnection = original;
      for (const attempt of [...pending.values()]) forget(attempt);
    },
  };
}
