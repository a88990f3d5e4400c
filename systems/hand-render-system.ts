import { findHandContext } from '../src/vr/hand-context.ts';
import { renderClientHands, renderServerHands } from '../src/vr/hand-render.ts';

/**
 * Writes RenderHand for every hand: owned hands from this frame's input, remote hands at the render time their
 * device was drawn at (run after `interpolationSystem`); on the server, each hand's newest sample. A world without
 * hand tracking is left alone.
 */
export function handRenderSystem<W extends object>(world: W): W {
  const hx = findHandContext(world);
  if (!hx) return world;
  if (hx.role === 'client') renderClientHands(hx);
  else renderServerHands(hx);
  return world;
}
