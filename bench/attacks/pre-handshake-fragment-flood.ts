/** Links that never say Hello, each sending one packet that claims an 8,192-fragment (8 MiB) reliable message. */
import { byScale } from '../harness.ts';
import type { AttackScenario } from './attack-scenario.ts';
import { fragmentClaim } from './attack-packets.ts';

/** The claim: the largest fragment count the default 8 MiB message limit allows. */
const CLAIMED_FRAGMENTS = 8192;

/** The pre-handshake fragment flood. */
export const preHandshakeFragmentFlood: AttackScenario = {
  name: 'pre-handshake-fragment-flood',
  description:
    `links that never say Hello each send one 1,041-byte packet claiming a ${CLAIMED_FRAGMENTS}-fragment message ` +
    '(tiny: 2 links, quick: 20, full: 200; all opened in the first frame)',
  start(room, scale) {
    const count = byScale(scale, { tiny: 2, quick: 20, full: 200 });
    // Counted, not kept: what the attacker holds must not show up as the server's memory.
    let opened = 0;
    let open = 0;
    return {
      tick(frame) {
        if (frame !== 0) return;
        for (let i = 0; i < count; i++) {
          const link = room.network.connect();
          link.onpacket = () => {};
          link.send(fragmentClaim(0, 0, 0, CLAIMED_FRAGMENTS));
          opened++;
          open++;
          link.onclose = () => open--;
        }
      },
      outcome: () => `${open} / ${opened} links still open`,
    };
  },
};
