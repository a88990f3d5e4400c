/** Registering the Attachment and Flight components of held objects in the shared protocol. */
import type { Attachment } from '../../components/attachment.ts';
import type { Flight } from '../../components/flight.ts';
import { field } from '../protocol/field-schema.ts';
import { type Protocol, registerComponent } from '../register.ts';

/** Offset range (m) from the holder: an object held at arm's length off a hand is within 2 m. */
export const ATTACHMENT_OFFSET_RANGE_M = 2;
/** Offset step: 0.1 mm, so the object sits within 0.09 mm of where its holder put it. */
export const ATTACHMENT_OFFSET_STEP_M = 0.0001;
/** Bits per smallest-three component of the offset rotation: 12 (~0.06 degree). */
export const ATTACHMENT_QUAT_BITS = 12;

/** Registers `attachment` (same order on every peer, like any component). */
export function registerAttachment(protocol: Protocol, attachment: Attachment): void {
  const r = ATTACHMENT_OFFSET_RANGE_M;
  const q = () => field.quantized(-r, r, ATTACHMENT_OFFSET_STEP_M);
  registerComponent(protocol, attachment, {
    name: 'Attachment',
    fields: {
      holder: field.entity(),
      ox: q(),
      oy: q(),
      oz: q(),
      rot: field.quat(['qx', 'qy', 'qz', 'qw'], ATTACHMENT_QUAT_BITS),
    },
  });
}

/** Fastest throw carried (m/s): a hard overarm throw is ~20 m/s. */
export const FLIGHT_SPEED_RANGE_MS = 20;

/** Registers `flight` (velocities at 1 mm/s, a flying flag). */
export function registerFlight(protocol: Protocol, flight: Flight): void {
  const v = () => field.quantized(-FLIGHT_SPEED_RANGE_MS, FLIGHT_SPEED_RANGE_MS, 0.001);
  registerComponent(protocol, flight, { name: 'Flight', fields: { vx: v(), vy: v(), vz: v(), flying: field.u8() } });
}
