/**
 * The link conditioner toggle of the overlay: wraps a real client transport so that every packet, both ways, goes
 * through ecsync's seeded link model (added latency, jitter, loss) before it is sent or handed on. Off, packets
 * pass straight through. A timer delivers the packets whose time has come.
 */
import { createLinkConditioner, createRandom, systemClock } from '../../src/index.ts';
import type { ClientTransport, Link, LinkConditions } from '../../src/index.ts';

/** How often due packets are delivered: 4 ms is the browsers' shortest repeating timer, well under a frame. */
const POLL_INTERVAL_MS = 4;

/** One direction of a preset as words: "+50 ms", "jitter 20 ms", "5 % loss". */
function directionLabel(c: LinkConditions): string {
  const parts = [
    c.latencyMs ? `+${c.latencyMs} ms` : '',
    c.jitterMs ? `jitter ${c.jitterMs} ms` : '',
    c.loss ? `${Math.round(c.loss * 100)} % loss` : '',
  ];
  return parts.filter(Boolean).join(', ') || 'clean';
}

/** A preset's label per direction: "+50 ms each way" when both match, else "up ... / down ...". */
export function presetLabel(up: LinkConditions, down: LinkConditions): string {
  const u = directionLabel(up);
  const d = directionLabel(down);
  return u === d ? `${u} each way` : `up ${u} / down ${d}`;
}

const preset = (up: LinkConditions, down: LinkConditions) => ({ label: presetLabel(up, down), up, down });

/** Presets the overlay cycles through, labelled per direction (each adds its latency to the RTT twice). */
export const CONDITION_PRESETS: ReadonlyArray<{ label: string; up: LinkConditions; down: LinkConditions } | null> = [
  null,
  preset({ latencyMs: 100 }, { latencyMs: 100 }),
  preset({ latencyMs: 50, loss: 0.05 }, { latencyMs: 50, loss: 0.05 }),
  preset({ latencyMs: 125, jitterMs: 20, loss: 0.1 }, { latencyMs: 125, jitterMs: 20, loss: 0.1 }),
  preset({ latencyMs: 20 }, { latencyMs: 150, loss: 0.02 }),
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
