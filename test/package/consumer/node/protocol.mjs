// The protocol both processes share: what a consumer writes in plain JavaScript against the published package.
import { createProtocol, field, registerComponent } from 'ecsync';

/** Most entities one world holds here. */
export const MAX_ENTITIES = 64;

/** What the server writes on its box, and what a client writes on the avatar it owns. */
export const BOX = { x: 1.5, y: -2.25, z: 3, color: 2 };
export const AVATAR_Y = 7.125;

/** Builds one world's component arrays and the protocol that replicates them. */
export function defineProtocol() {
  const Position = {
    x: new Float32Array(MAX_ENTITIES),
    y: new Float32Array(MAX_ENTITIES),
    z: new Float32Array(MAX_ENTITIES),
  };
  const Color = { value: new Uint8Array(MAX_ENTITIES) };
  const protocol = createProtocol();
  const mm = field.quantized(-50, 50, 0.001);
  registerComponent(protocol, Position, { name: 'Position', fields: { x: mm, y: mm, z: mm } });
  registerComponent(protocol, Color, { name: 'Color', fields: { value: field.enum(['red', 'green', 'blue']) } });
  return { protocol, Position, Color };
}

/** True when `a` and `b` agree to the field's 1 mm precision. */
export function near(a, b) {
  return Math.abs(a - b) <= 0.0005;
}
