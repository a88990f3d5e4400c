/**
 * Message tags: the u16 in front of every message body (see wire.md). Each family owns a range of 1000 tags so new
 * messages can be added inside their family without renumbering:
 *   0-999 core, 1000-1999 state sync, 2000-2999 presence and subscriptions, 3000-3999 signalling,
 *   4000-4999 notifications, 5000-5999 actions, 6000-6999 authority, 7000-7999 assets and telemetry.
 * 8000-65535 are unassigned; an unknown tag is skipped, never fatal. Values are explicit and must never change.
 */
export const Tag = {
  // 0-999 core
  /** Client → server, reliable: opens a session `{protocolVersion, schemaHash, capabilities, ...}` (wire.md). */
  Hello: 0,
  /** Server → client, reliable: the session is accepted `{clientId, sessionId, role, serverTime, resumeToken, ...}`. */
  Welcome: 1,
  /** Either way, unreliable: a clock probe carrying the sender's time in ms. */
  Ping: 2,
  /** Either way, unreliable: the answer to a Ping, echoing its time and adding the responder's. */
  Pong: 3,
  /** Either way, reliable: `{code, message, fatal}`; a fatal Error is followed by closing the link. */
  Error: 4,
  /** Client → server, reliable: a resumed client's `{lastSeq, n, have}`: the server catches it up from there. */
  Resync: 5,
  /** Client → server, reliable: the client leaves `{reason?}`; the session ends at once, without resume. */
  Goodbye: 6,
  /** Server → client, reliable: the server closes `{reason?}`; the client goes to `closed` and does not reconnect. */
  Shutdown: 7,
  /** Server → client, after a Hello with a key or nonce: the nonce to sign, and the server's proof of its key. */
  Challenge: 8,
  /** Client → server: the signature of the Challenge by the client's key. */
  ChallengeResponse: 9,
  /**
   * Server → client, reliable: the room moved to another process (a drain hands it over) `{url, token}`: the client
   * closes this session and connects to `url` with the fresh seat reservation `token`. Tags 10-19 are reserved for
   * scale-out session messages.
   */
  Move: 10,
  // 1000-1999 state sync
  /** Server → client: one chunk of a full (or partial, for resynced buckets) state snapshot. */
  Snapshot: 1000,
  /** Either way: changed fields of entities at a tick, owner writes upstream and replicated state downstream. */
  Delta: 1001,
  /** Server → client, reliable: the catch-up batch after a resume (entities in full, despawns), in chunks. */
  Deltas: 1002,
  /** Server → client: entities that appeared (created, or entered the receiver's interest), as full entities. */
  Spawn: 1003,
  /** Server → client: entities that are gone, each with a reason (destroyed, or out of interest). */
  Despawn: 1004,
  /** Server → client: per-bucket sums of entity hashes at a tick, checked by the client to detect divergence. */
  StateHash: 1005,
  /** Client → server: the client asks for a partial Snapshot of the state buckets whose hash differed. */
  ResyncRequest: 1006,
  /** Client → server, unreliable: the owner's tracked head and controller poses, with redundant ticks. */
  InputPoses: 1007,
  /** Server → client: a component was added to an entity (a full entity carrying just that component). */
  ComponentAdd: 1008,
  /** Server → client: a component was removed from an entity `{netId, component index}`. */
  ComponentRemove: 1009,
  /** Reserved in the state-sync family; not sent by this version. */
  SnapshotChunk: 1010,
  /** Server → owner, unreliable: the accepted pose of its tracked device at a tick, where it differs from the input. */
  Correction: 1011,
  /** Client → server: hash of the client's owned state, with a gapless epoch (EpochGap / HashMismatch). */
  OwnerHash: 1012,
  /** Server → owner: the server's values of components whose write it refused or clamped (body as Spawn). */
  OwnerCorrection: 1013,
  /** Client → server, unreliable: the owner's tracked hands, delta-coded against acked frames (wire.md). */
  HandInput: 1014,
  /** Server → client, unreliable: other users' tracked hands, delta-coded against acked frames (wire.md). */
  HandFrames: 1015,
  /**
   * Server → client, unreliable: a Delta whose entities each carry a fidelity level code; entities at a coarse
   * level have the low bits of their quantized and quaternion fields dropped (wire.md, "CoarseDelta").
   */
  CoarseDelta: 1016,
  /** Either way, reliable: tracked hands' fixed skeletons (bone lengths, metacarpal starts, twists) (wire.md). */
  HandCalibration: 1017,
  /**
   * Server → client, unreliable, under capability `ackedbase2`: a Delta whose quantized and quaternion components
   * may be residuals against the client's acked baselines, with Exp-Golomb id gaps (wire.md, "BaselineDelta").
   */
  BaselineDelta: 1018,
  // 2000-2999 presence, subscriptions
  /** Server → client: the user list (full or changed, and who left); client → server: the user's own status. */
  Presence: 2000,
  /** Client → server, reliable: subscribe to an interest scope `{scope}`. */
  Subscribe: 2001,
  /** Client → server, reliable: leave an interest scope `{scope}`. */
  Unsubscribe: 2002,
  /** Client → server, reliable: changed discrete awareness fields `{d}` (see wire.md "Awareness"). */
  AwarenessSet: 2003,
  /** Client → server, unreliable (one reliable copy once at rest): the continuous awareness fields `{s, c}`. */
  AwarenessMotion: 2004,
  /** Server → client, reliable: a user's changed discrete awareness fields `{u, d}`. */
  AwarenessUpdate: 2005,
  /** Server → client, unreliable (one reliable copy once at rest): a user's continuous fields `{u, s, c}`. */
  AwarenessMotionRelay: 2006,
  /** Server → client, reliable: a user's awareness is gone (left, or out of the receiver's interest) `{u, r}`. */
  AwarenessClear: 2007,
  /** Server → client, reliable: current awareness of relevant users `{h, f?, r}` (on join, resume, entering interest). */
  AwarenessSnapshot: 2008,
  // 3000-3999 signalling
  /** Either way, reliable: a WebRTC signal relayed between two connected members `{to, signal}` / `{from, signal}`. */
  Signal: 3000,
  // 4000-4999 notifications
  /** Server → client, reliable: an application event of a domain the client subscribed to `{domain, event}`. */
  Notify: 4000,
  /** Client → server, reliable: subscribe to notification domains `{domains}` (<= 32). */
  NotifySubscribe: 4001,
  /** Client → server, reliable: unsubscribe from notification domains `{domains}`. */
  NotifyUnsubscribe: 4002,
  // 5000-5999 actions
  /** Client → server, reliable: run an application action `{opId, action}`. */
  Action: 5000,
  /** Server → client, reliable: progress of a running action `{opId, percent?, message?}`. */
  Progress: 5001,
  /** Server → client, reliable: an action finished `{opId, result?}`. */
  ActionOk: 5002,
  /** Server → client, reliable: an action failed `{opId, code, message}`. */
  ActionErr: 5003,
  // 6000-6999 authority
  /** Client → server: ask to own (hold) an entity `{netId, counter}`. */
  OwnershipRequest: 6000,
  /** Server → client: an entity's new owner (0 = server) with its authority sequence. */
  OwnershipGrant: 6001,
  /** Server → client: an ownership request was not granted `{netId, reason}`. */
  OwnershipRevoke: 6002,
  /** Either way: a signed command for the command log (client) or accepted log entries (server). */
  CommandEntry: 6003,
  /** Either way: an admin's role-change request, or the server's announcement of the change `{clientId, role}`. */
  RoleChange: 6004,
  /** Either way: an admin's kick request, or the notice to the target before its fatal Error `{clientId, reason}`. */
  Kick: 6005,
  /** Either way: an admin's ban request, or the notice to the target before its fatal Error `{clientId, reason}`. */
  Ban: 6006,
  /** Either way: the host's hand-over request, or the server's announcement of the new host (0 = none). */
  HostMigration: 6007,
  /** Client → server: the holder lets go of an entity (optional final pose), or a queued client stops waiting. */
  OwnershipRelease: 6008,
  /** Server → author: a command was refused `{s, reason}` (forged, replayed, forbidden, conflict, ...). */
  CommandReject: 6009,
  /** Server → client: one chunk of the command state, sent on join and resume. */
  CommandSnapshot: 6010,
  // 7000-7999 assets, telemetry
  /** Either way, reliable: "I hold this asset" `{h, s, m, n, c}` (see wire.md "Assets"). */
  AssetOffer: 7000,
  /** The holder → the puller, reliable, binary: one chunk of an asset (hash, index, flags, raw length, data). */
  AssetChunk: 7001,
  /** The puller → the holder, reliable: send chunks from `f` on `{h, f}` (0 starts, more continues). */
  AssetResume: 7002,
  /** Either way, reliable: verified or held `{h}`, or refused `{h, e, w}`. */
  AssetDone: 7003,
  /** Client → server, unreliable: a client's periodic network and frame-time figures (wire.md "TelemetryReport"). */
  TelemetryReport: 7004,
} as const;

/** Name of a message tag, e.g. `'Hello'`. */
export type TagName = keyof typeof Tag;

/** Numeric value of a message tag as it travels on the wire. */
export type TagValue = (typeof Tag)[TagName];

/** Family of a tag, from the range it falls in. */
export type TagFamily =
  'core' | 'state' | 'presence' | 'signalling' | 'notifications' | 'actions' | 'authority' | 'assets' | 'unknown';

/** Families in range order: index = Math.floor(tag / 1000). */
const FAMILIES: readonly TagFamily[] = [
  'core',
  'state',
  'presence',
  'signalling',
  'notifications',
  'actions',
  'authority',
  'assets',
];

const NAMES = new Map<number, TagName>((Object.keys(Tag) as TagName[]).map((name) => [Tag[name], name]));

/** Name of a numeric tag from the wire, or undefined when the tag is unknown. */
export function tagName(n: number): TagName | undefined {
  return NAMES.get(n);
}

/** True when `n` is a tag this version knows. */
export function isKnownTag(n: number): n is TagValue {
  return NAMES.has(n);
}

/** Family of the range `n` falls in (whether or not the tag itself is known); 'unknown' outside 0-7999. */
export function tagFamily(n: number): TagFamily {
  if (!Number.isInteger(n) || n < 0) return 'unknown';
  return FAMILIES[Math.floor(n / 1000)] ?? 'unknown';
}
