/**
 * The room's awareness schema, shared by the server and every page: which objects each user has selected (network
 * ids), whether they are speaking (the voice's debounced flag) and the avatar colour they chose. All are discrete
 * fields: they travel reliably; everyone sees a selection in the user's colour and a ring above a speaking head.
 */
import { awarenessField, field } from '../../src/index.ts';

/** Objects one user may select at once: the room has a handful, and one is the usual. */
export const MAX_SELECTED = 4;

/** The room's awareness fields. */
export const roomAwareness = {
  selection: awarenessField.list(field.entity(), MAX_SELECTED),
  speaking: awarenessField.discrete(field.bool()),
  /** The avatar colour the user chose on entry (one of the palette's; unset: their seat's colour). */
  color: awarenessField.discrete(field.u32()),
};
