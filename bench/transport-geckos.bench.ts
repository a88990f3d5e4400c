/**
 * How many Node geckos.io clients one geckos.io server sustains at 60 Hz, 200-byte packets both ways, with no drop,
 * on loopback, on the native stack: the real @geckos.io/server on node-datachannel (libdatachannel) and the clients
 * on node-datachannel/polyfill. The server runs in this process; the clients in child processes, so the server's CPU
 * time (its native threads included) is its own and other load on the machine does not count against it. Ramps
 * 8, 16, 32, ... (doubling) until a step drops a packet, the server needs more than (about) one core, or a side cannot
 * keep the rate; bounded by `maxClients` and a time budget; then bisects between the last pass and the first failure.
 *
 * Opens WebRTC connections: run inside the loopback-only namespace, e.g.
 *   unshare -n sh -c 'ip link set lo up && exec "$@"' sh env ECSYNC_NETNS=1 npx tsx bench/transport-geckos.bench.ts
 * Prints `{ "transport_clients_60hz_geckos": N, ... }` on stdout.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { createGeckosClientTransport } from '../src/transport/geckos-client-transport.ts';
import { createGeckosServerTransport } from '../src/transport/geckos-server-transport.ts';
import type { Link } from '../src/transport/transport.ts';
import { requireLoopbackOnlyNetwork } from '../harness/netns.ts';

const HOST = '127.0.0.1';
/** Clients connected at once: more only queues DTLS handshakes behind each other on two cores. */
const CONNECT_BATCH = 8;
/** Wait after connecting before measuring: lets handshakes and geckos.io's candidate polling settle. */
const SETTLE_MS = 500;
/** Wait after the last send of a window for packets still in flight. */
const DRAIN_MS = 300;
/** Share of the target packet count each side must send in a window: below it, a thread could not keep the rate. */
const MIN_RATE_FRACTION = 0.98;
/** Hard upper bound of the default ramp: two UDP sockets and a DTLS session per client; far past one core here. */
export const MAX_RAMP_CLIENTS = 2048;
/** Bisection steps after the ramp (each halves the gap between the last pass and the first failure). */
const BISECTIONS = 3;
/**
 * Processes the clients are spread over: one event loop driving 200+ polyfill clients is slower than the server's,
 * and the measurement is of the server. Two, for this 2-core machine.
 */
const CLIENT_PROCESSES = 2;
/** Command-line flag that makes this file run the clients' side. */
const CLIENTS_FLAG = '--geckos-clients';

/** Options of `measureGeckosClients`. */
export interface GeckosCapacityOptions {
  /** Client counts to try, in order (default: 8 doubling up to `maxClients`, until a step fails). */
  steps?: number[];
  /** Largest client count the default ramp tries (default `MAX_RAMP_CLIENTS`). */
  maxClients?: number;
  /** Packets per second each way per client (default 60). */
  rateHz?: number;
  /** Bytes per packet (default 200). */
  packetBytes?: number;
  /** Measured time per step (default 3000 ms). */
  windowMs?: number;
  /** Whole run budget; a step that would not fit is skipped (default 150 s). */
  budgetMs?: number;
  /** The server counts as saturated ("more than one core") above this CPU use, in cores (default 0.9). */
  maxServerCores?: number;
  /** Progress lines (default none). */
  log?: (line: string) => void;
}

/** What one step measured. */
export interface GeckosCapacityStep {
  clients: number;
  /** Packets sent (or attempted and dropped by congestion) client to server, and received. */
  upSent: number;
  upReceived: number;
  downSent: number;
  downReceived: number;
  dropped: number;
  /** CPU time of the server process over the window, in cores. */
  serverCores: number;
  /** Event-loop utilization of the server's thread in the window (includes time the machine made it wait). */
  serverUtilization: number;
  /** CPU time of the clients' processes over the window, in cores (together). */
  clientCores: number;
  /** Time to connect this step's new clients. */
  connectMs: number;
  /** The machine's 1-minute load average at the end of the window: other load explains 'rate' failures. */
  loadAverage: number;
  /** Why the step failed, or null. */
  failure: 'drops' | 'cpu' | 'rate' | null;
}

/** Result of `measureGeckosClients`. */
export interface GeckosCapacityResult {
  /** Most clients of a passed step (0 when even the first failed). */
  transport_clients_60hz_geckos: number;
  steps: GeckosCapacityStep[];
  /** What ended the ramp: a failure criterion, the time budget, or the hard upper bound (every step passed). */
  stoppedBy: 'drops' | 'cpu' | 'rate' | 'budget' | 'all steps passed';
  /** Client counts of the ramp (before bisection). */
  ramp: number[];
}

type ToClients =
  | { type: 'connect'; port: number; total: number }
  | { type: 'start'; rateHz: number; packetBytes: number }
  | { type: 'stop' }
  | { type: 'close' };
type FromClients =
  | { type: 'connected'; total: number }
  | { type: 'started' }
  | { type: 'stopped'; sent: number; received: number; cores: number }
  | { type: 'closed' }
  | { type: 'error'; message: string };

/** Calls `tick` `rateHz` times a second on average (self-correcting), until the returned stop function runs. */
function every(rateHz: number, tick: () => void): () => void {
  const periodMs = 1000 / rateHz;
  let next = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const loop = (): void => {
    tick();
    next += periodMs;
    timer = setTimeout(loop, Math.max(0, next - performance.now()));
  };
  loop();
  return () => clearTimeout(timer);
}

/** The clients' side, in the child process. */
function runClients(): void {
  const links: Link[] = [];
  let received = 0;
  let stopTicker: (() => void) | null = null;
  let cpu = process.cpuUsage();
  let windowStart = 0;
  let sentAtStart = 0;
  const sentSoFar = (): number =>
    links.reduce((sum, link) => {
      const c = (link as unknown as { counters: { packetsSent: number; droppedCongested: number } }).counters;
      return sum + c.packetsSent + c.droppedCongested;
    }, 0);
  const post = (message: FromClients): void => void process.send!(message);
  process.on('message', (message: ToClients) => {
    void (async () => {
      if (message.type === 'connect') {
        const transport = createGeckosClientTransport({
          url: `http://${HOST}`,
          port: message.port,
          RTCPeerConnection,
          // Inside the loopback-only namespace libdatachannel gathers nothing unless bound to loopback.
          rtcConfiguration: { bindAddress: HOST },
        });
        while (links.length > message.total) links.pop()!.close('bench step down');
        while (links.length < message.total) {
          const batch = Math.min(CONNECT_BATCH, message.total - links.length);
          const opened = await Promise.all(Array.from({ length: batch }, () => transport.connect()));
          for (const link of opened) {
            link.onpacket = () => received++;
            links.push(link);
          }
        }
        post({ type: 'connected', total: links.length });
      } else if (message.type === 'start') {
        received = 0;
        sentAtStart = sentSoFar();
        cpu = process.cpuUsage();
        windowStart = performance.now();
        stopTicker = every(message.rateHz, () => {
          for (const link of links) link.send(new Uint8Array(message.packetBytes));
        });
        post({ type: 'started' });
      } else if (message.type === 'stop') {
        stopTicker?.();
        const used = process.cpuUsage(cpu);
        const cores = (used.user + used.system) / 1000 / (performance.now() - windowStart);
        const sent = sentSoFar() - sentAtStart;
        setTimeout(() => post({ type: 'stopped', sent, received, cores }), DRAIN_MS);
      } else if (message.type === 'close') {
        for (const link of links) link.close('bench done');
        post({ type: 'closed' });
        // geckos.io's client keeps polling timers for ~10 s after each connect: leave now that everything is closed.
        setTimeout(() => process.exit(0), 100);
      }
    })().catch((error: Error) => post({ type: 'error', message: error.stack ?? error.message }));
  });
}

/** Sends a message to the clients' process and waits for the reply of the given type. */
function ask<T extends FromClients['type']>(
  clientsProcess: ChildProcess,
  message: ToClients,
  reply: T,
): Promise<Extract<FromClients, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (answer: FromClients): void => {
      if (answer.type === 'error') {
        clientsProcess.off('message', onMessage);
        reject(new Error(`client process: ${answer.message}`));
      } else if (answer.type === reply) {
        clientsProcess.off('message', onMessage);
        resolve(answer as Extract<FromClients, { type: T }>);
      }
    };
    clientsProcess.on('message', onMessage);
    clientsProcess.send(message);
  });
}

/**
 * Measures how many geckos.io clients one server sustains (see the file comment). Must run inside the loopback-only
 * network namespace with ECSYNC_NETNS=1; throws otherwise.
 * @example
 * const { transport_clients_60hz_geckos } = await measureGeckosClients({ budgetMs: 60_000 });
 */
export async function measureGeckosClients(options: GeckosCapacityOptions = {}): Promise<GeckosCapacityResult> {
  requireLoopbackOnlyNetwork();
  const steps = options.steps ?? defaultRamp(options.maxClients ?? MAX_RAMP_CLIENTS);
  const rateHz = options.rateHz ?? 60;
  const packetBytes = options.packetBytes ?? 200;
  const windowMs = options.windowMs ?? 3000;
  const budgetMs = options.budgetMs ?? 150_000;
  const maxServerCores = options.maxServerCores ?? 0.9;
  const log = options.log ?? (() => {});
  const started = performance.now();

  const server = await createGeckosServerTransport({ port: 0, host: HOST });
  const links = new Set<Link>();
  server.onconnection = (link) => {
    links.add(link);
    link.onclose = () => links.delete(link);
  };
  // The clients run this same file in child processes (inheriting the network namespace), loaded through tsx.
  const clientsProcesses = Array.from({ length: CLIENT_PROCESSES }, () =>
    fork(fileURLToPath(import.meta.url), [CLIENTS_FLAG], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  /** Asks every clients' process; process i gets `message(i)`. */
  const askAll = <T extends FromClients['type']>(message: (i: number) => ToClients, reply: T) =>
    Promise.all(clientsProcesses.map((child, i) => ask(child, message(i), reply)));
  /** Clients of process i when `total` are wanted: as even as possible. */
  const share = (total: number, i: number): number =>
    Math.floor(total / CLIENT_PROCESSES) + (i < total % CLIENT_PROCESSES ? 1 : 0);
  const result: GeckosCapacityResult = {
    transport_clients_60hz_geckos: 0,
    steps: [],
    stoppedBy: 'all steps passed',
    ramp: steps,
  };
  let lastStepMs = 0;
  const fits = (): boolean =>
    performance.now() - started + Math.max(lastStepMs * 2, windowMs + SETTLE_MS + DRAIN_MS) <= budgetMs;
  const measure = async (clients: number): Promise<GeckosCapacityStep> => {
    const stepStart = performance.now();
    const step = await runStep(clients);
    lastStepMs = performance.now() - stepStart;
    result.steps.push(step);
    log(JSON.stringify(step));
    return step;
  };
  const runStep = async (clients: number): Promise<GeckosCapacityStep> => {
    const connectStart = performance.now();
    await askAll((i) => ({ type: 'connect', port: server.port, total: share(clients, i) }), 'connected');
    const connectMs = performance.now() - connectStart;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

    const before = { ...server.counters };
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    const windowStart = performance.now();
    await askAll(() => ({ type: 'start', rateHz, packetBytes }), 'started');
    const stopTicker = every(rateHz, () => {
      for (const link of links) link.send(new Uint8Array(packetBytes));
    });
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    stopTicker();
    const serverUtilization = performance.eventLoopUtilization(elu).utilization;
    const wallMs = performance.now() - windowStart;
    const cpuUsed = process.cpuUsage(cpu);
    const serverCores = (cpuUsed.user + cpuUsed.system) / 1000 / wallMs;
    const stopped = await askAll(() => ({ type: 'stop' }), 'stopped');
    const fromClients = {
      sent: stopped.reduce((sum, c) => sum + c.sent, 0),
      received: stopped.reduce((sum, c) => sum + c.received, 0),
      cores: stopped.reduce((sum, c) => sum + c.cores, 0),
    };
    const after = server.counters;
    const downSent = after.packetsSent + after.droppedCongested - before.packetsSent - before.droppedCongested;
    const upReceived = after.packetsReceived - before.packetsReceived;
    const dropped = fromClients.sent - upReceived + (downSent - fromClients.received);
    // Both sides must have kept the rate, or the step proves nothing about the server.
    const expected = clients * rateHz * (windowMs / 1000) * MIN_RATE_FRACTION;
    const failure =
      dropped !== 0
        ? 'drops'
        : serverCores > maxServerCores
          ? 'cpu'
          : fromClients.sent < expected || downSent < expected
            ? 'rate'
            : null;
    return {
      clients,
      upSent: fromClients.sent,
      upReceived,
      downSent,
      downReceived: fromClients.received,
      dropped,
      serverCores: round(serverCores),
      serverUtilization: round(serverUtilization),
      clientCores: round(fromClients.cores),
      connectMs: Math.round(connectMs),
      loadAverage: round(loadavg()[0]),
      failure,
    };
  };
  try {
    let failedAt = 0;
    for (const clients of steps) {
      if (!fits()) {
        result.stoppedBy = 'budget';
        break;
      }
      let step = await measure(clients);
      // A shared machine can starve a step (other load): a failure counts only when a second try fails too.
      if (step.failure && fits()) step = await measure(clients);
      if (step.failure) {
        result.stoppedBy = step.failure;
        failedAt = clients;
        break;
      }
      result.transport_clients_60hz_geckos = clients;
    }
    // Bisect between the last pass and the first failure, while there is time for it.
    for (let i = 0; i < BISECTIONS && failedAt > 0 && fits(); i++) {
      const passed = result.transport_clients_60hz_geckos;
      const middle = Math.round((passed + failedAt) / 2 / CONNECT_BATCH) * CONNECT_BATCH;
      if (!(passed > 0 && middle > passed && middle < failedAt)) break;
      const step = await measure(middle);
      if (step.failure) failedAt = middle;
      else result.transport_clients_60hz_geckos = middle;
    }
  } finally {
    await askAll(() => ({ type: 'close' }), 'closed').catch(() => {});
    await server.close();
    for (const child of clientsProcesses) {
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  return result;
}

/** 8, 16, 32, ... doubling, ending with `maxClients` itself. */
function defaultRamp(maxClients: number): number[] {
  const ramp: number[] = [];
  for (let n = CONNECT_BATCH; n < maxClients; n *= 2) ramp.push(n);
  ramp.push(maxClients);
  return ramp;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv.includes(CLIENTS_FLAG)) {
  runClients();
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await measureGeckosClients({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  // geckos.io's client keeps polling timers alive for ~10 s after each connect; the figures are out already.
  process.exit(0);
}
