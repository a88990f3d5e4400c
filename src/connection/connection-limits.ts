/**
 * A connection's options resolved against its link: defaults filled in and every limit checked once, so a
 * mistake is a Usage error at construction, never a surprise on the wire.
 */
import { usageError } from '../errors.ts';
import {
  DEFAULT_MAX_PACKETS_PER_FLUSH,
  DEFAULT_MAX_RELIABLE_IN_FLIGHT_BYTES,
  DEFAULT_MAX_RELIABLE_MESSAGE_BYTES,
  DEFAULT_MAX_RELIABLE_QUEUE_BYTES,
  DEFAULT_MAX_RELIABLE_QUEUE_MESSAGES,
  DEFAULT_PROTOCOL_ID,
  DEFAULT_UNRELIABLE_BUDGET_BYTES,
  type ConnectionOptions,
} from './connection-options.ts';
import { PACKET_HEADER_BYTES } from './packet-header.ts';
import { RELIABLE_FRAGMENT_BYTES, fragmentEntryBytes } from './packet-entries.ts';

/** The resolved limits of one connection. */
export interface ConnectionLimits {
  protocolId: number;
  /** Unreliable bytes per packet. */
  budget: number;
  maxPacketsPerFlush: number;
  maxMessageBytes: number;
  /** Reliable flow-control window: bytes started and not yet acked in order. */
  inFlightBytes: number;
  maxQueueBytes: number;
  maxQueueMessages: number;
}

/** Fills in the defaults of `options` and checks them against a link of `mtu` bytes (throws a Usage NetError). */
export function resolveConnectionLimits(options: ConnectionOptions, mtu: number): ConnectionLimits {
  const protocolId = options.protocolId ?? DEFAULT_PROTOCOL_ID;
  const budget = options.unreliableBudgetBytes ?? DEFAULT_UNRELIABLE_BUDGET_BYTES;
  const maxPacketsPerFlush = options.maxPacketsPerFlush ?? DEFAULT_MAX_PACKETS_PER_FLUSH;
  const maxMessageBytes = options.maxReliableMessageBytes ?? DEFAULT_MAX_RELIABLE_MESSAGE_BYTES;
  const inFlightBytes = options.maxReliableInFlightBytes ?? DEFAULT_MAX_RELIABLE_IN_FLIGHT_BYTES;
  const maxQueueBytes = options.maxReliableQueueBytes ?? DEFAULT_MAX_RELIABLE_QUEUE_BYTES;
  const maxQueueMessages = options.maxReliableQueueMessages ?? DEFAULT_MAX_RELIABLE_QUEUE_MESSAGES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || !(inFlightBytes > 0)) {
    usageError('maxReliableMessageBytes and maxReliableInFlightBytes must be positive', 'fix the options');
  }
  const body = mtu - PACKET_HEADER_BYTES;
  const maxFragments = Math.ceil(maxMessageBytes / RELIABLE_FRAGMENT_BYTES);
  const fragmentEntry = fragmentEntryBytes(RELIABLE_FRAGMENT_BYTES, maxFragments - 1, maxFragments);
  if (body < fragmentEntry) {
    usageError(
      `link MTU ${mtu} is too small for a reliable fragment`,
      `use a link MTU >= ${fragmentEntry + PACKET_HEADER_BYTES} bytes`,
    );
  }
  if (!Number.isInteger(protocolId) || protocolId < 0 || protocolId > 255) {
    usageError(`protocolId must be a byte, got ${protocolId}`, 'pass an integer in 0..255');
  }
  if (!Number.isInteger(budget) || budget < 1 || budget > body) {
    usageError(`unreliableBudgetBytes ${budget} must be in 1..${body}`, 'lower unreliableBudgetBytes');
  }
  if (!Number.isInteger(maxPacketsPerFlush) || maxPacketsPerFlush < 1) {
    usageError(`maxPacketsPerFlush must be >= 1, got ${maxPacketsPerFlush}`, 'pass a positive integer');
  }
  if (!(maxQueueBytes >= 1) || !(maxQueueMessages >= 1)) {
    usageError('maxReliableQueueBytes and maxReliableQueueMessages must be >= 1', 'e.g. 16 MiB and 16384');
  }
  return { protocolId, budget, maxPacketsPerFlush, maxMessageBytes, inFlightBytes, maxQueueBytes, maxQueueMessages };
}
