/** Every attack the `attack` bench family runs, in order; add a scenario file and list it here. */
import type { AttackScenario } from './attack-scenario.ts';
import { neverAckingClient } from './never-acking-client.ts';
import { pendingHandshakeFlood } from './pending-handshake-flood.ts';
import { preHandshakeFragmentFlood } from './pre-handshake-fragment-flood.ts';
import { resyncRequestFlood } from './resync-request-flood.ts';

/** The attack scenarios. */
export const ATTACK_SCENARIOS: readonly AttackScenario[] = [
  preHandshakeFragmentFlood,
  pendingHandshakeFlood,
  neverAckingClient,
  resyncRequestFlood,
];
