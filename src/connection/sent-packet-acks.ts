/**
 * The sending side of packet acks: applies the peer's ack fields to the sent-packet window, hands acked and lost
 * fragments back to the reliable sender, and feeds the RTT and loss estimates (and the stats derived from them).
 */
import type { Clock } from '../clock.ts';
import { SentPacketWindow, SentState } from './ack-window.ts';
import { LossEstimator, RttEstimator } from './link-estimator.ts';
import { seqAdd } from './packet-header.ts';
import type { OutgoingFragment, ReliableSender } from './reliable-sender.ts';
import type { ConnectionCounters } from './connection-stats.ts';
import { PROMPT_ACK_GAP_MS } from './connection-options.ts';

/** Where acks and losses are reported: the connection's public callbacks. */
export interface SentPacketAcksHost {
  onPacketAcked: ((seq: number) => void) | null;
  onPacketLost: ((seq: number) => void) | null;
}

/** Tracks the packets one connection sent until each is acked or declared lost. */
export class SentPacketAcks {
  /** Sent packets and the reliable fragments each carried. */
  readonly sent = new SentPacketWindow<OutgoingFragment[]>();
  /** Round-trip estimate; its RTO times resends and the loss sweep. */
  readonly rtt = new RttEstimator();

  private readonly host: SentPacketAcksHost;
  private readonly sender: ReliableSender;
  private readonly counters: ConnectionCounters;
  private readonly clock: Clock;
  private readonly loss = new LossEstimator();
  /** When the last packet was accepted (-Infinity before any): a late ack is a sample only when it is recent. */
  private lastAcceptedAtMs = -Infinity;
  private readonly deferredLost: number[] = [];

  constructor(host: SentPacketAcksHost, sender: ReliableSender, counters: ConnectionCounters, clock: Clock) {
    this.host = host;
    this.sender = sender;
    this.counters = counters;
    this.clock = clock;
  }

  /** Reports the losses found while sending (slots reused by `flush`) since the last call. */
  reportDeferred(): void {
    for (let i = 0; i < this.deferredLost.length; i++) this.reportLost(this.deferredLost[i]);
    this.deferredLost.length = 0;
  }

  /** Notes that a packet was accepted at `now`, after its acks were applied. */
  noteAccepted(now: number): void {
    this.lastAcceptedAtMs = now;
  }

  // A packet still pending when its slot in the sent window is reused: lost; reported at the next receive().
  readonly onSlotReused = (seq: number, slot: number): void => {
    const frags = this.sent.payload[slot];
    if (frags) this.sender.onPacketLost(frags, seq, this.clock.now());
    this.deferredLost.push(seq);
  };

  /** A pending packet the sweep declared lost: its fragments are resent and the loss reported now. */
  readonly onSweptLost = (seq: number, slot: number): void => {
    const frags = this.sent.payload[slot];
    if (frags) this.sender.onPacketLost(frags, seq, this.clock.now());
    this.reportLost(seq);
  };

  /** Applies a received header's ack and 32 ack bits. */
  applyAcks(ack: number, ackBits: number, now: number): void {
    this.sent.noteAckField(ack);
    for (let i = 31; i >= 0; i--) {
      if ((ackBits >>> i) & 1) this.ackPacket(seqAdd(ack, -1 - i), now, false);
    }
    // A late ack (of a packet already declared lost) is a round trip only when the peer acked it promptly: the
    // header's own `ack` field, while the peer's packets keep arriving (its ack delay is at most that gap). An idle
    // peer's first packet after a pause acks old packets late by the pause, not by the path.
    const prompt = now - this.lastAcceptedAtMs <= PROMPT_ACK_GAP_MS;
    this.ackPacket(ack, now, prompt);
  }

  private ackPacket(seq: number, now: number, lateIsSample: boolean): void {
    const slot = this.sent.ack(seq);
    if (slot < 0) return;
    const frags = this.sent.payload[slot];
    if (frags) {
      for (let i = 0; i < frags.length; i++) this.sender.onAcked(frags[i]);
      this.sent.payload[slot] = null;
    }
    // Packet numbers are never reused, so even the ack of a packet already declared lost measures a round trip
    // (no Karn ambiguity). Sampling it is what lets the estimate follow a sudden rise of the RTT past the loss
    // timeout: otherwise every packet would time out before its ack, and the RTT and RTO would never move again.
    if (this.sent.state[slot] !== SentState.Acked) {
      if (lateIsSample) {
        this.rtt.sample(now - this.sent.sentAtMs[slot]);
        this.counters.update(this.rtt, this.loss);
      }
      return;
    }
    this.rtt.sample(now - this.sent.sentAtMs[slot]);
    this.loss.add(false);
    this.counters.update(this.rtt, this.loss);
    this.host.onPacketAcked?.(seq);
  }

  private reportLost(seq: number): void {
    this.loss.add(true);
    this.counters.update(this.rtt, this.loss);
    this.host.onPacketLost?.(seq);
  }
}
