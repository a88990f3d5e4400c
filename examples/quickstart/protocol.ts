/**
 * The shared protocol of the quick start: imported by the server and every client. Each world gets its own
 * component arrays (three worlds share this process), so the module exports a function that builds them.
 */
import { createProtocol, field, registerComponent } from '../../src/index.ts';

/** Most entities one world holds in this example. */
export const MAX_ENTITIES = 1024;

/** Builds the components of one world and the protocol that replicates them. */
export function defineProtocol() {
  const Position = {
    x: new Float32Array(MAX_ENTITIES),
    y: new Float32Array(MAX_ENTITIES),
    z: new Float32Array(MAX_ENTITIES),
  };
  const Color = { value: new Uint8Array(MAX_ENTITIES) };
  const protocol = createProtocol();
  // 1 mm over a 100 m room: 17 bits per axis.
  const mm = field.quantized(-50, 50, 0.001);
  registerComponent(protocol, Position, { name: 'Position', fields: { x: mm, y: mm, z: mm } });
  registerComponent(protocol, Color, { name: 'Color', fields: { value: field.enum(['red', 'green', 'blue']) } });
  return { protocol, Position, Color };
}
