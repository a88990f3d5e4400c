/**
 * The shared interface of the attack bench (bench/attack.bench.ts): one attack per file in bench/attacks/, each
 * driving hostile peers against a real server in an `AttackRoom` (in-memory network, manual clock, honest clients
 * alongside). To add an attack: implement `AttackScenario` in a new file and list it in `ATTACK_SCENARIOS`
 * (bench/attacks/scenarios.ts).
 */
import type { BenchScale } from '../harness.ts';
import type { AttackRoom } from './attack-room.ts';

/** One attacker, created when the attack starts and ticked every simulated frame while it lasts. */
export interface Attacker {
  /** One frame of attack: send what the attack sends and receive what the server sent (before the server runs). */
  tick(frame: number): void;
  /** One line on how it ended for the attacker, e.g. 'disconnected (SendQueueFull)', '3 / 200 links open'. */
  outcome(): string;
}

/** One attack scenario. */
export interface AttackScenario {
  /** Stable id (kebab-case), the key of its row in the JSON report. */
  readonly name: string;
  /** One sentence: what the attacker does, with the figures that matter (rates, sizes). */
  readonly description: string;
  /** Creates the attacker against `room` (honest clients have joined and are in sync). */
  start(room: AttackRoom, scale: BenchScale): Attacker;
}
