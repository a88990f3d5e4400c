import { awarenessField, field } from '../../src/index.ts';

/** The awareness schema the awareness tests share: a selection, a tool, a talking flag and a 3D cursor. */
export const roomAwareness = {
  selection: awarenessField.list(field.entity(), 8),
  tool: awarenessField.discrete(field.enum(['select', 'move', 'draw'])),
  talking: awarenessField.discrete(field.bool()),
  cursor: awarenessField.continuous(field.quantized(-100, 100, 0.001), 3),
};
