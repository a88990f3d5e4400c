import { authorityOf } from '../src/authority/authority-api.ts';
import { ClientAuthority } from '../src/authority/client-authority.ts';

/** Moves every object this client holds to its hand (run after the game moves the hands, before `send`). */
export function holdSystem<W extends object>(world: W): W {
  const authority = authorityOf(world);
  if (authority instanceof ClientAuthority) authority.follow();
  return world;
}
