/**
 * Bodies of the application messages (actions, notifications, signalling; MessagePack maps, see wire.md) and
 * their validators: null for anything that is not the expected shape, strings bounded, numbers clamped.
 */
import { asNumber, asString, asUint, isRecord } from '../protocol/handshake.ts';
import { asId, MAX_ID } from './authority-wire.ts';

/** Longest notification domain name: a short identifier like 'world' or 'rewards'. */
export const MAX_DOMAIN_LENGTH = 64;

/** Domains in one NotifySubscribe / NotifyUnsubscribe message. */
export const MAX_DOMAINS_PER_MESSAGE = 32;

/** Longest action error code ('not-found', 'conflict'): an identifier, not prose. */
export const MAX_ERROR_CODE_LENGTH = 64;

/** Longest progress or error message: a status line for a UI. */
export const MAX_STATUS_LENGTH = 1024;

/** Longest SDP accepted in a Signal: real offers are 2-10 KB; 64 KiB leaves room for many media sections. */
export const MAX_SDP_LENGTH = 65_536;

/** Longest ICE candidate line (real ones are ~100-200 bytes). */
export const MAX_CANDIDATE_LENGTH = 2048;

/** A correlation id: a u32 op id or a short string. */
export type CorrelationId = number | string;

function asCorrelation(v: unknown): CorrelationId | undefined {
  if (typeof v === 'number') return asUint(v) !== undefined && v <= MAX_ID ? v : undefined;
  return asString(v, 128);
}

// ── actions ────────────────────────────────────────────────────────────────────────────────────────────

/** Client → server: run `action` (application-defined); `opId` correlates the answers. */
export interface ActionBody {
  opId: number;
  action: unknown;
}

/** Validates an Action body. */
export function parseAction(v: unknown): ActionBody | null {
  if (!isRecord(v)) return null;
  const opId = asId(v.opId);
  return opId === undefined || !('action' in v) ? null : { opId, action: v.action };
}

/** Server → client: an in-flight action advanced; `percent` is clamped to 0..100. */
export interface ProgressBody {
  opId: number;
  percent?: number;
  message?: string;
}

/** Validates a Progress body. */
export function parseProgress(v: unknown): ProgressBody | null {
  if (!isRecord(v)) return null;
  const opId = asId(v.opId);
  if (opId === undefined) return null;
  const out: ProgressBody = { opId };
  if (v.percent !== undefined) {
    const p = asNumber(v.percent);
    if (p === undefined) return null;
    out.percent = clampPercent(p);
  }
  if (v.message !== undefined) {
    if (typeof v.message !== 'string') return null;
    out.message = v.message.slice(0, MAX_STATUS_LENGTH);
  }
  return out;
}

/** A percentage clamped to [0, 100] (NaN becomes 0). */
export function clampPercent(p: number): number {
  return p >= 0 ? Math.min(100, p) : 0;
}

/** Server → client: the action succeeded, with an optional result. */
export interface ActionOkBody {
  opId: number;
  result?: unknown;
}

/** Validates an ActionOk body. */
export function parseActionOk(v: unknown): ActionOkBody | null {
  if (!isRecord(v)) return null;
  const opId = asId(v.opId);
  return opId === undefined ? null : { opId, result: v.result };
}

/** Server → client: the action failed; the client rolls back what it applied optimistically. */
export interface ActionErrBody {
  opId: number;
  code: string;
  message: string;
}

/** Validates an ActionErr body. */
export function parseActionErr(v: unknown): ActionErrBody | null {
  if (!isRecord(v)) return null;
  const opId = asId(v.opId);
  const code = asString(v.code, MAX_ERROR_CODE_LENGTH);
  if (opId === undefined || code === undefined || typeof v.message !== 'string') return null;
  return { opId, code, message: v.message.slice(0, MAX_STATUS_LENGTH) };
}

// ── notifications ──────────────────────────────────────────────────────────────────────────────────────

/** Server → client: an application event in `domain`, optionally linked to the action that caused it. */
export interface NotifyBody {
  domain: string;
  event: unknown;
  correlationId?: CorrelationId;
}

/** Validates a Notify body. */
export function parseNotify(v: unknown): NotifyBody | null {
  if (!isRecord(v)) return null;
  const domain = asDomain(v.domain);
  if (domain === undefined || !('event' in v)) return null;
  const out: NotifyBody = { domain, event: v.event };
  if (v.correlationId !== undefined) {
    const c = asCorrelation(v.correlationId);
    if (c === undefined) return null;
    out.correlationId = c;
  }
  return out;
}

/** A domain name: 1..MAX_DOMAIN_LENGTH characters. */
export function asDomain(v: unknown): string | undefined {
  const s = asString(v, MAX_DOMAIN_LENGTH);
  return s === undefined || s.length === 0 ? undefined : s;
}

/** Client → server: NotifySubscribe / NotifyUnsubscribe `{domains}`. */
export interface DomainsBody {
  domains: string[];
}

/** Validates a NotifySubscribe / NotifyUnsubscribe body. */
export function parseDomains(v: unknown): DomainsBody | null {
  if (!isRecord(v) || !Array.isArray(v.domains) || v.domains.length > MAX_DOMAINS_PER_MESSAGE) return null;
  const domains: string[] = [];
  for (const d of v.domains) {
    const s = asDomain(d);
    if (s === undefined) return null;
    domains.push(s);
  }
  return { domains };
}

// ── signalling ─────────────────────────────────────────────────────────────────────────────────────────

/** A WebRTC signalling payload: an SDP offer or answer, or an ICE candidate. */
export type SignalPayload =
  | {
      /** An SDP offer or the answer to one. */
      type: 'offer' | 'answer';
      /** The session description text. */
      sdp: string;
    }
  | {
      /** An ICE candidate. */
      type: 'candidate';
      /** The candidate line (RTCIceCandidate.candidate). */
      candidate: string;
      /** Media stream identification tag of the candidate's media section. */
      sdpMid?: string;
      /** Index of the candidate's media section in the SDP. */
      sdpMLineIndex?: number;
    };

/** Validates a signalling payload. */
export function parseSignalPayload(v: unknown): SignalPayload | null {
  if (!isRecord(v)) return null;
  if (v.type === 'offer' || v.type === 'answer') {
    const sdp = asString(v.sdp, MAX_SDP_LENGTH);
    return sdp === undefined ? null : { type: v.type, sdp };
  }
  if (v.type !== 'candidate') return null;
  const candidate = asString(v.candidate, MAX_CANDIDATE_LENGTH);
  if (candidate === undefined) return null;
  const out: SignalPayload = { type: 'candidate', candidate };
  if (v.sdpMid !== undefined) {
    const mid = asString(v.sdpMid, 64);
    if (mid === undefined) return null;
    out.sdpMid = mid;
  }
  if (v.sdpMLineIndex !== undefined) {
    const i = asUint(v.sdpMLineIndex);
    if (i === undefined || i > 0xffff) return null;
    out.sdpMLineIndex = i;
  }
  return out;
}

/** Client → server Signal: relay `signal` to client `to`. */
export interface SignalOutBody {
  to: number;
  signal: SignalPayload;
}

/** Validates a client → server Signal body. */
export function parseSignalOut(v: unknown): SignalOutBody | null {
  if (!isRecord(v)) return null;
  const to = asId(v.to);
  const signal = parseSignalPayload(v.signal);
  return to === undefined || signal === null ? null : { to, signal };
}

/** Server → client Signal: `signal` from client `from`. */
export interface SignalInBody {
  from: number;
  signal: SignalPayload;
}

/** Validates a server → client Signal body. */
export function parseSignalIn(v: unknown): SignalInBody | null {
  if (!isRecord(v)) return null;
  const from = asId(v.from);
  const signal = parseSignalPayload(v.signal);
  return from === undefined || signal === null ? null : { from, signal };
}
