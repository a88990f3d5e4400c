/**
 * The one list of ecsync error codes, shared by `Error {code, message, fatal}` on the wire and by the API.
 * Wire values are explicit so peers built from different versions of this file still agree.
 */
export const ErrorCode = {
  /** The sender's role may not send this message or write this entity; also the fatal code of a kick. */
  Forbidden: 1,
  /** The owned state hashes of client and server differ: the diverged buckets are resynced. */
  HashMismatch: 2,
  /** An owner's state-hash epoch skipped a number: the server asks the owner to resync. */
  EpochGap: 3,
  /** A message, field or structure is larger than its limit; it is refused. */
  Oversize: 4,
  /** A message from the network is malformed; it is dropped. */
  DecodeError: 5,
  /** The peers speak different protocol versions; the session is refused. */
  VersionMismatch: 6,
  /** The peers registered different components (schema hash differs); the session is refused. */
  SchemaMismatch: 7,
  /** The server's `authorize` hook refused (or could not check) the client's credentials; the session is refused. */
  Unauthorized: 8,
  /** A peer sent more than its rate limits allow; repeat offenders are disconnected. */
  RateLimited: 9,
  /** The client's user id or key is banned from the session; it is refused. */
  Banned: 10,
  /** A message names an entity this peer does not know; it is ignored. */
  UnknownEntity: 11,
  /** Something did not happen in time (handshake, welcome, ack); the session is retried or suspended. */
  Timeout: 12,
  /** A bounded server structure is full (command state, scope names): the request is refused, nothing else. */
  LimitExceeded: 13,
  /** A write the server's write gate refused: a rule said no, or a float was NaN or infinite. */
  InvalidWrite: 14,
  /** The peer does not ack our reliable data: its send queue passed its cap and it is disconnected. */
  SendQueueFull: 15,
  /** The server is at a capacity limit (pending handshakes, suspended sessions): the oldest entry was dropped. */
  Overloaded: 16,
  /** Handling a peer's message threw; the exception was contained and the message dropped. */
  InternalError: 17,
  /** A client claimed an Ed25519 key in its Hello and did not sign the server's nonce with it. */
  IdentityUnproven: 18,
  /** The server's key is not the one the application expects, or the server could not prove it holds it. */
  ServerKeyMismatch: 19,
  /** A relayed command-log entry whose signature is not its author's (a compromised or buggy server). */
  ForgedCommand: 20,
  /** A Resync the server refuses: malformed, unsolicited (not resuming), or naming a tick it never sent. */
  ResyncRefused: 21,
  /** A catch-up Deltas batch that is malformed or out of sequence: dropped, the client asks for a resync. */
  CatchUpInvalid: 22,
  /** An asset offer above the receiver's maximum asset size: refused before any byte of it is pulled. */
  AssetTooLarge: 23,
  /** An asset's bytes do not hash to the SHA-256 its offer named (a corrupted or forged chunk): refused, not handed on. */
  AssetCorrupt: 24,
  /** More concurrent asset transfers than the limit (per client or in total): the new one is refused. */
  AssetBusy: 25,
  /** The sender's role may not offer assets. */
  AssetForbidden: 26,
  /** An asset the peer asked for is not (or no longer) held here, or its transfer stalled and was dropped. */
  AssetUnavailable: 27,
  /** mDNS records of a discovered server that break a bound or do not parse (name, port, TXT, version): dropped. */
  DiscoveryInvalid: 28,
  /** An awareness message that does not fit the declared awareness schema (unknown field, bad value, long list). */
  AwarenessInvalid: 30,
  /** The server's awareness schema is not this client's: the client's awareness stays off. */
  AwarenessSchemaMismatch: 31,
  /** A local write to a short-string field that is not a string or exceeds its maxBytes: it is not replicated. */
  InvalidString: 32,
  /** Scale-out: every room of that name is full and no process could create another (or the room by id is full). */
  RoomFull: 40,
  /** Scale-out: the room is locked (or private, or moving to another process) and takes no new seats. */
  RoomLocked: 41,
  /** Scale-out: no room has that id (it was disposed, or its process died), or no room definition has that name. */
  RoomUnknown: 42,
  /** Scale-out: a seat reservation was not used before its expiry; its seat went back to the room. */
  ReservationExpired: 43,
  /** Scale-out: a seat reservation that is not signed by the deployment's key, is malformed, or is for another room. */
  ReservationInvalid: 44,
  /** Scale-out: the matchmaker could not be reached, answered garbage, or no process is ready to host a room. */
  MatchmakerUnavailable: 45,
  /** Scale-out: a registry record, command or notification from the backend that does not fit its shape. */
  BackendInvalid: 46,
  /**
   * Scale-out: a geckos.io connection to a room host refused at signalling, before it reached a room: its
   * authorization (the seat reservation) is missing, oversize, malformed, not signed by the deployment key or expired,
   * or names a room this process does not host (any more).
   */
  GeckosRouteRefused: 47,
  /** Scale-out: `joinRoom` was asked for geckos.io, but the seat's process serves no geckos.io endpoint. */
  GeckosUnavailable: 48,
  /** A voice signal refused: from a non-member or non-peer, out of order, or SDP/candidate the browser rejected. */
  VoiceSignalInvalid: 55,
  /** The voice mesh has `maxPeers` peers: another user was not connected. */
  VoiceMeshFull: 56,
  /** A voice pair's connection failed after its ICE restarts and was closed. */
  VoicePeerFailed: 57,
  /** The server's fidelity `level` function returned something that is not a level index (level 0 was used). */
  FidelityLevel: 58,
  /** A hand calibration refused: not the sender's hand, or a skeleton no human hand has (lengths, starts, angles). */
  HandCalibrationInvalid: 63,
  /** A hand calibration not kept: the receiver already holds calibrations of its maximum number of hands. */
  HandCalibrationFull: 64,
  /** A programmer mistake caught at once (bad option, duplicate registration); never sent on the wire. */
  Usage: 100,
} as const;

/** Name of an error code, e.g. `'Forbidden'`. */
export type ErrorCodeName = keyof typeof ErrorCode;

/** Numeric value of an error code as it travels on the wire. */
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

const NAMES = new Map<number, ErrorCodeName>(
  (Object.keys(ErrorCode) as ErrorCodeName[]).map((name) => [ErrorCode[name], name]),
);

/** Name for a numeric code from the wire, or undefined when the code is unknown. */
export function errorCodeName(code: number): ErrorCodeName | undefined {
  return NAMES.get(code);
}

/**
 * The error type of ecsync. Thrown only for programmer mistakes (with `fix` saying what to do);
 * problems caused by network input are reported through `onError` and never thrown into the game loop.
 */
export class NetError extends Error {
  /** Name of the error code (a key of `ErrorCode`). */
  readonly code: ErrorCodeName;
  /** What the programmer should do to fix the mistake, when the error is a usage error. */
  readonly fix: string | undefined;
  /** True when the error ended the session (the link is closed after it). */
  readonly fatal: boolean;

  /** Creates an error with `code`, a `message`, and optionally a `fix` and whether it is `fatal` (default false). */
  constructor(code: ErrorCodeName, message: string, options: { fix?: string; fatal?: boolean } = {}) {
    super(options.fix ? `${code}: ${message} (fix: ${options.fix})` : `${code}: ${message}`);
    this.name = 'NetError';
    this.code = code;
    this.fix = options.fix;
    this.fatal = options.fatal ?? false;
  }
}

/** Throws a `Usage` NetError: the call is a programmer mistake and `fix` says how to correct it. */
export function usageError(message: string, fix: string): never {
  throw new NetError('Usage', message, { fix });
}

/** Hook that receives every problem caused by network input (dropped packets, rejected writes, ...). */
export type ErrorHandler = (error: NetError) => void;
