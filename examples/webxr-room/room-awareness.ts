/**
 * The room's awareness schema, shared by the server and every page: which objects each user has selected (network
 * ids). A selection is a discrete field: it travels reliably and everyone sees it in the user's colour.
 */
import { awarenessField, field } from '../../src/index.ts';

/** Objects one user may select at once: the room has a handful, and one is the usual. */
export const MAX_SELECTED = 4;

/** The room's awareness fields. */
export const roomAwareness = {
  selection: awarenessField.list(field.entity(), MAX_SELECTED),
};
