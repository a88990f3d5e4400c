/**
 * A seeded, clock-driven model of a bad network path (one direction): latency, jitter, loss, bursts of loss,
 * duplication, reordering and a bandwidth cap with a bounded queue. Used by the in-memory network so tests
 * reproduce the same deliveries from the same seed, and never sleep.
 */
import type { Clock } from '../clock.ts';
import type { Random } from '../random.ts';

/** What a path does to packets; every field is optional and defaults to "perfect". */
export interface LinkConditions {
  /** One-way base delay in ms. */
  latencyMs?: number;
  /**
   * Extra delay uniform in [0, jitterMs] ms. Order is kept (a packet waits for the one before, like a path
   * queue), so dense traffic sees delays biased towards latency + jitter; reordering is `reorder`'s job.
   */
  jitterMs?: number;
  /** Probability (0..1) that a packet is dropped. */
  loss?: number;
  /** Probability (0..1) that a packet is delivered twice (the copy gets its own delay). */
  duplicate?: number;
  /** Probability (0..1) that a packet gets an extra delay so later packets overtake it. */
  reorder?: number;
  /** Largest extra delay of a reordered packet, in ms (uniform in (0, reorderDelayMs]); default 30. */
  reorderDelayMs?: number;
  /** Serialization rate of the path; packets queue behind each other and wait their turn. */
  bandwidthBytesPerSec?: number;
  /** Bytes the bandwidth queue holds before it drops; default 250 ms worth of `bandwidthBytesPerSec`. */
  bandwidthQueueBytes?: number;
  /** Deterministic bursts: the first `length` packets of every `everyPackets` sent are dropped. */
  burstLoss?: {
    /** Length of the cycle, in packets sent. */
    everyPackets: number;
    /** Packets dropped at the start of each cycle. */
    length: number;
  };
}

/** Counters of one conditioner (one direction of one link). */
export interface LinkConditionerStats {
  /** Packets pushed in. */
  sent: number;
  /** Packets dropped by loss, bursts or a full bandwidth queue. */
  dropped: number;
  /** Extra copies made. */
  duplicated: number;
  /** Packets handed to `pollDue`'s callback (copies included). */
  delivered: number;
}

/** One direction of a conditioned path: push packets in, poll the ones whose time has come. */
export interface LinkConditioner {
  /** Copies the packet and decides whether, when and how often it arrives. */
  push(packet: Uint8Array): void;
  /** Delivers every packet due at `clock.now()`, in delivery-time order (send order for equal times). */
  pollDue(deliver: (packet: Uint8Array) => void): void;
  /** Replaces the conditions for packets pushed from now on. */
  setConditions(conditions: LinkConditions): void;
  /** Drops every packet still in flight (a cut or closed link). */
  clear(): void;
  /** Packets in flight. */
  readonly pendingCount: number;
  /** Counters of the conditioner: packets sent, dropped, duplicated and delivered. */
  readonly stats: LinkConditionerStats;
}

/** Default largest extra delay of a reordered packet: a bit more than one 30 Hz tick, so it really overtakes. */
const DEFAULT_REORDER_DELAY_MS = 30;
/** Default bandwidth queue: 250 ms of traffic, about what a home router buffers before it drops. */
const DEFAULT_QUEUE_MS = 250;

interface InFlight {
  time: number;
  order: number;
  data: Uint8Array;
}

/** Creates one direction of a conditioned path, drawing every random decision from `random`. */
export function createLinkConditioner(conditions: LinkConditions, random: Random, clock: Clock): LinkConditioner {
  let c: LinkConditions = { ...conditions };
  const heap: InFlight[] = [];
  let order = 0;
  let pushedCount = 0;
  // Time the last in-order packet arrives: jitter never lets a packet overtake an earlier one.
  let lastInOrderMs = -Infinity;
  // Time the bandwidth queue finishes serializing what it holds.
  let busyUntilMs = -Infinity;
  const stats: LinkConditionerStats = { sent: 0, dropped: 0, duplicated: 0, delivered: 0 };

  const before = (a: InFlight, b: InFlight): boolean => a.time < b.time || (a.time === b.time && a.order < b.order);

  function heapPush(item: InFlight): void {
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  function heapPop(): InFlight {
    const top = heap[0];
    const last = heap.pop() as InFlight;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }

  // Schedules one copy that left the bandwidth queue at `departMs`.
  function schedule(data: Uint8Array, departMs: number): void {
    let time = departMs + (c.latencyMs ?? 0) + (c.jitterMs ? random.range(0, c.jitterMs) : 0);
    if (c.reorder && random.next() < c.reorder) {
      time += (1 - random.next()) * (c.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS);
    } else {
      time = Math.max(time, lastInOrderMs);
      lastInOrderMs = time;
    }
    heapPush({ time, order: order++, data });
  }

  return {
    push(packet: Uint8Array): void {
      const now = clock.now();
      const index = pushedCount++;
      stats.sent++;
      const burst = c.burstLoss;
      if (burst && burst.everyPackets > 0 && index % burst.everyPackets < burst.length) {
        stats.dropped++;
        return;
      }
      if (c.loss && random.next() < c.loss) {
        stats.dropped++;
        return;
      }
      let departMs = now;
      const rate = c.bandwidthBytesPerSec;
      if (rate && rate > 0) {
        const queuedBytes = (Math.max(0, busyUntilMs - now) * rate) / 1000;
        const bound = c.bandwidthQueueBytes ?? (rate * DEFAULT_QUEUE_MS) / 1000;
        if (queuedBytes + packet.length > bound) {
          stats.dropped++;
          return;
        }
        departMs = Math.max(now, busyUntilMs) + (packet.length * 1000) / rate;
        busyUntilMs = departMs;
      }
      const data = packet.slice();
      schedule(data, departMs);
      if (c.duplicate && random.next() < c.duplicate) {
        stats.duplicated++;
        schedule(data.slice(), departMs);
      }
    },
    pollDue(deliver: (packet: Uint8Array) => void): void {
      const now = clock.now();
      while (heap.length > 0 && heap[0].time <= now) {
        const item = heapPop();
        stats.delivered++;
        deliver(item.data);
      }
    },
    setConditions(next: LinkConditions): void {
      c = { ...next };
    },
    clear(): void {
      heap.length = 0;
    },
    get pendingCount() {
      return heap.length;
    },
    stats,
  };
}
