/** The cap on reliable bytes and messages queued for a peer that does not ack: refuses, counts and reports once. */
import { NetError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import type { ConnectionStats } from './connection-stats.ts';
import type { ReliableSender } from './reliable-sender.ts';

/** Decides whether a reliable message is refused because the send queue is at its cap. */
export class SendQueueCap {
  /** True once a message was refused (the stream to this peer is broken). */
  full = false;

  private readonly maxQueueBytes: number;
  private readonly maxQueueMessages: number;
  private readonly stats: ConnectionStats;
  private readonly onError: ErrorHandler;

  constructor(maxQueueBytes: number, maxQueueMessages: number, stats: ConnectionStats, onError: ErrorHandler) {
    this.maxQueueBytes = maxQueueBytes;
    this.maxQueueMessages = maxQueueMessages;
    this.stats = stats;
    this.onError = onError;
  }

  /** True (counted, and `SendQueueFull` reported the first time) when `length` more bytes would pass the cap. */
  refuses(sender: ReliableSender, length: number): boolean {
    if (sender.pendingBytes + length <= this.maxQueueBytes && sender.pendingMessages < this.maxQueueMessages) {
      return false;
    }
    this.stats.sendQueueRefused++;
    if (!this.full) {
      this.full = true;
      this.onError(
        new NetError(
          'SendQueueFull',
          `peer has not acked ${sender.pendingBytes} reliable bytes in ${sender.pendingMessages} messages ` +
            `(caps ${this.maxQueueBytes} B, ${this.maxQueueMessages} messages)`,
          { fatal: true },
        ),
      );
    }
    return true;
  }
}
