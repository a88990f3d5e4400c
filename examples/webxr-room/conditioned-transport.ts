/**
 * The link conditioner toggle of the overlay: wraps a real client transport so that every packet, both ways, goes
 * through ecsync's seeded link model (added latency, jitter, loss) before it is sent or handed on. Off, packets
 * pass straight through. A timer delivers the packets whose time has come.
 */
import { createLinkConditioner, createRandom, systemClock } from '../../src/index.ts';
import type { ClientTransport, Link, LinkConditions } from '../../src/index.ts';

/** How often due packets are delivered: 4 ms is the browsers' shortest repeating timer, well under a frame. */
const POLL_INTERVAL_MS = 4;

/** Presets the overlay cycles through; latency is split evenly between the two directions. */
export const CONDITION_PRESETS: ReadonlyArray<{ label: string; up: LinkConditions; down: LinkConditions } | null> = [
  null,
  { label: '+100 ms', up: { latencyMs: 50 }, down: { latencyMs: 50 } },
  { label: '+100 ms, 5 % loss', up: { latencyMs: 50, loss: 0.05 }, down: { latencyMs: 50, loss: 0.05 } },
  {
    label: '+250 ms, jitter 40 ms, 10 % loss',
    up: { latencyMs: 125, jitterMs: 20, loss: 0.1 },
    down: { latencyMs: 125, jitterMs: 20, loss: 0.1 },
  },
];

/** A transport whose links can be degraded on demand. */
export interface ConditionedTransport extends ClientTransport {
  /** Applies a preset of `CONDITION_PRESETS` (null: a perfect pass-through) to the current and later links. */
  setPreset(preset: (typeof CONDITION_PRESETS)[number]): void;
}

/** Wraps `inner`; `seed` makes the losses repeatable. */
export function createConditionedTransport(inner: ClientTransport, seed = 1): ConditionedTransport {
  const random = createRandom(seed);
  const up = createLinkConditioner({}, random, systemClock);
  const down = createLinkConditioner({}, random, systemClock);
  let active = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  let current: Link | null = null;
  let deliver: (packet: Uint8Array) => void = () => {};

  const poll = () => {
    const link = current;
    if (link?.isOpen) up.pollDue((packet) => link.send(packet));
    down.pollDue(deliver);
    if (!active && up.pendingCount === 0 && down.pendingCount === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };

  return {
    setPreset(preset) {
      active = preset !== null;
      up.setConditions(preset?.up ?? {});
      down.setConditions(preset?.down ?? {});
      if (active && timer === null) timer = setInterval(poll, POLL_INTERVAL_MS);
    },
    async connect(): Promise<Link> {
      const link = await inner.connect();
      current = link;
      up.clear();
      down.clear();
      const outer: Link = {
        mtuBytes: link.mtuBytes,
        get isOpen() {
          return link.isOpen;
        },
        send(packet) {
          if (active) up.push(packet);
          else link.send(packet);
        },
        close: (reason) => link.close(reason),
        onpacket: null,
        onclose: null,
      };
      deliver = (packet) => outer.onpacket?.(packet);
      link.onpacket = (packet) => {
        if (active)
          down.push(packet); // the conditioner copies it
        else outer.onpacket?.(packet);
      };
      link.onclose = (reason) => {
        up.clear();
        down.clear();
        outer.onclose?.(reason);
      };
      return outer;
    },
  };
}
