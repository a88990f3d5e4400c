/** Links opened at a steady rate that never say Hello: each waits for the handshake timeout. */
import { byScale } from '../harness.ts';
import type { AttackScenario } from './attack-scenario.ts';

/** The pending-handshake flood. */
export const pendingHandshakeFlood: AttackScenario = {
  name: 'pending-handshake-flood',
  description: 'opens links that never say Hello, 5 per frame (300 per second; tiny: 1 per frame)',
  start(room, scale) {
    const perFrame = byScale(scale, { tiny: 1, quick: 5, full: 5 });
    // Counted, not kept: what the attacker holds must not show up as the server's memory.
    let opened = 0;
    let open = 0;
    return {
      tick() {
        for (let i = 0; i < perFrame; i++) {
          const link = room.network.connect();
          link.onpacket = () => {};
          opened++;
          open++;
          link.onclose = () => open--;
        }
      },
      outcome: () => `${open} / ${opened} links still open`,
    };
  },
};
