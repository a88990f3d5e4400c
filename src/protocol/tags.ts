/**
 * Message tags: the u16 in front of every message body (see wire.md). Each family owns a range of 1000 tags so new
 * messages can be added inside their family without renumbering:
 *   0-999 core, 1000-1999 state sync, 2000-2999 presence and subscriptions, 3000-3999 signalling,
 *   4000-4999 notifications, 5000-5999 actions, 6000-6999 authority, 7000-7999 assets and telemetry.
 * 8000-65535 are unassigned; an unknown tag is skipped, never fatal. Values are explicit and must never change.
 */
export const Tag = {
  // 0-999 core
  Hello: 0,
  Welcome: 1,
  Ping: 2,
  Pong: 3,
  Error: 4,
  Resync: 5,
  Goodbye: 6,
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
  Snapshot: 1000,
  Delta: 1001,
  Deltas: 1002,
  Spawn: 1003,
  Despawn: 1004,
  StateHash: 1005,
  ResyncRequest: 1006,
  InputPoses: 1007,
  ComponentAdd: 1008,
  ComponentRemove: 1009,
  SnapshotChunk: 1010,
  Correction: 1011,
  /** Client → server: hash of the client's owned state, with a gapless epoch (EpochGap / HashMismatch). */
  OwnerHash: 1012,
  /** Server → owner: the server's values of components whose write it refused or clamped (body as Spawn). */
  OwnerCorrection: 1013,
  /** Client → server, unreliable: the owner's tracked hands, delta-coded against acked frames (wire.md). */
  HandInput: 1014,
  /** Server → client, unreliable: other users' tracked hands, delta-coded against acked frames (wire.md). */
  HandFrames: 1015,
  // 2000-2999 presence, subscriptions
  Presence: 2000,
  Subscribe: 2001,
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
  Signal: 3000,
  // 4000-4999 notifications
  Notify: 4000,
  NotifySubscribe: 4001,
  NotifyUnsubscribe: 4002,
  // 5000-5999 actions
  Action: 5000,
  Progress: 5001,
  ActionOk: 5002,
  ActionErr: 5003,
  // 6000-6999 authority
  OwnershipRequest: 6000,
  OwnershipGrant: 6001,
  OwnershipRevoke: 6002,
  CommandEntry: 6003,
  RoleChange: 6004,
  Kick: 6005,
  Ban: 6006,
  HostMigration: 6007,
  OwnershipRelease: 6008,
  CommandReject: 6009,
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
