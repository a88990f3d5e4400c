import { updateAttachments } from '../src/vr/attachments.ts';

/**
 * Client: draws every held object at its holder's RenderPose of this frame times its offset (free objects at their
 * own pose), grab and release blended, into RenderPose. Run after `interpolationSystem` (and `handRenderSystem`).
 */
export function attachmentSystem<W extends object>(world: W): W {
  updateAttachments(world);
  return world;
}
