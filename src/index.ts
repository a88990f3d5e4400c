/**
 * ecsync's public API (`ecsync`): everything that needs no optional peer dependency. The geckos.io client is in
 * `ecsync/geckos`, the Node server transports in `ecsync/server`.
 */
export { createNetworkPlugin, DEFAULT_SEND_RATE_HZ } from './plugin.ts';
export type {
  NetworkPlugin,
  NetworkPluginOptions,
  ServerPluginOptions,
  ClientPluginOptions,
  InterestOptions,
  PeerStats,
  System,
} from './plugin.ts';
export { createProtocol, registerComponent, registeredComponentOf } from './register.ts';
export type { Protocol, ComponentRegistration, RegisteredComponent } from './register.ts';
export {
  createReplicatedStore,
  replicatedStoreInfo,
  MAX_REPLICATED_COLUMNS,
  MAX_REPLICATED_STORE_BYTES,
} from './replication/replicated-store.ts';
export type {
  ReplicatedColumn,
  ReplicatedColumnType,
  ReplicatedStore,
  ReplicatedStoreInfo,
  ReplicatedStoreOptions,
} from './replication/replicated-store.ts';
export { markChanged, changeDetectionOf } from './change-marks-api.ts';
export type { ChangeDetectionKind } from './change-marks-api.ts';
export { field, DEFAULT_QUAT_BITS } from './protocol/field-schema.ts';
export { fitShortString, MAX_SHORT_STRING_BYTES, shortStringStatsOf, utf8ByteLength } from './short-string-api.ts';
export type { ShortStringStats } from './short-string-api.ts';
export type { FieldSpec } from './protocol/field-schema.ts';
export { NetError, ErrorCode, errorCodeName } from './errors.ts';
export type { ErrorCodeName, ErrorHandler } from './errors.ts';
export {
  networkIdOf,
  entityOfNetworkId,
  ownerOf,
  setOwner,
  isOwnedLocally,
  clientIdOf,
  connectedClients,
  addServerExtension,
  addClientExtension,
  setViewEntity,
  setViewPosition,
  setEntityScopes,
  setClientScope,
  setAlwaysRelevant,
  setPublish,
  setReceive,
  subscribeScope,
  setReceiving,
  connectionStateOf,
  connectionErrorOf,
  presenceOf,
  serverTimeOf,
  setPresenceStatus,
  notePresenceActivity,
  onSessionEvent,
} from './world-api.ts';
export type { ServerExtension, ClientExtension } from './replication/extension.ts';
export { Networked } from '../components/networked.ts';
export { Grabbable } from '../components/grabbable.ts';
export { createManualClock, systemClock } from './clock.ts';
export type { Clock, ManualClock } from './clock.ts';
export { createRandom } from './random.ts';
export type { Random } from './random.ts';
export type { Link, ServerTransport, ClientTransport, IceServer, CloseReason } from './transport/transport.ts';
export { createMemoryNetwork } from './transport/memory-transport.ts';
export { createWebSocketClientTransport } from './transport/websocket-client-transport.ts';
export type { WebSocketClientTransportOptions } from './transport/websocket-client-transport.ts';
export type { MemoryNetwork } from './transport/memory-transport.ts';
export { createLinkConditioner } from './transport/link-conditioner.ts';
export type { LinkConditions, LinkConditioner } from './transport/link-conditioner.ts';
export { Tag } from './protocol/tags.ts';
export { createVrPlugin } from './plugin.ts';
export type { VrPlugin } from './plugin.ts';
export {
  addVrPoses,
  remoteRenderTimeMs,
  poseClockOffsetMs,
  vrStatsOf,
  DEFAULT_HORIZON_MS,
  DEFAULT_MAX_EXTRAPOLATION_MS,
  DEFAULT_REDUNDANT_TICKS,
} from './vr/vr-plugin.ts';
export type { VrPoses, VrPosesOptions, VrStats } from './vr/vr-plugin.ts';
export { registerPoseComponents } from './vr/pose-protocol.ts';
export type { PoseProtocolOptions, RegisteredPoses } from './vr/pose-protocol.ts';
export { DEFAULT_POSE_QUANTIZATION } from './vr/pose-quantization.ts';
export type { PoseQuantization } from './vr/pose-quantization.ts';
export { createMotionTrace, TraceDevice, TRACE_SAMPLE_LENGTH } from './vr/motion-trace.ts';
export type { MotionTrace, TraceDeviceId } from './vr/motion-trace.ts';
export { DeviceKind } from './vr/server-pose-validator.ts';
export type { Box, PoseCheck, PoseRule, PoseValidationOptions } from './vr/server-pose-validator.ts';
export type { ReconcileOptions } from './vr/reconciliation.ts';
export type { RenderDelayOptions } from './vr/render-delay.ts';
export { createPoseComponents } from '../components/pose-components.ts';
export type { PoseComponents } from '../components/pose-components.ts';
export { reconciliationSystem } from '../systems/reconciliation-system.ts';
export { poseInputSystem } from '../systems/pose-input-system.ts';
export { interpolationSystem } from '../systems/interpolation-system.ts';
export {
  createServerAuthority,
  createClientAuthority,
  authorityOf,
  disposeAuthority,
} from './authority/authority-api.ts';
export { ServerAuthority } from './authority/server-authority.ts';
export { FORBIDDEN_REPLY_INTERVAL_MS } from './authority/permission-gate.ts';
export type { ServerAuthorityOptions, ServerAuthorityStats } from './authority/server-authority.ts';
export { ClientAuthority } from './authority/client-authority.ts';
export type { ClientAuthorityOptions, GrabOptions } from './authority/client-authority.ts';
export type { AuthorityEvents, ClientAuthorityEvents, ServerAuthorityEvents } from './authority/authority-events.ts';
export { createPermissionTable, DEFAULT_PERMISSIONS, DEFAULT_UNLISTED, ROLES } from './authority/roles.ts';
export type { Role, Sender, PermissionTable } from './authority/roles.ts';
export type { OwnershipPolicy, OwnershipDecision, OwnershipRequestInfo } from './authority/ownership-arbiter.ts';
export type { CommandType, CommandTypes, ConflictPolicy, CommandMeta, CommandRecord } from './authority/command-log.ts';
export type { CommandEntryData } from './authority/command-signing.ts';
export type { CommandRejection } from './authority/command-wire.ts';
export { ActionError, ActionFailure } from './authority/actions.ts';
export type { ActionContext, ActionHandler, ActOptions } from './authority/actions.ts';
export type { SignalPayload, CorrelationId } from './authority/app-wire.ts';
export type { NotifyTarget } from './authority/notifications.ts';
export type { AllowSignal } from './authority/signalling.ts';
export type { PoseAccess } from './authority/hold.ts';
export { compareStamps } from './authority/lamport.ts';
export { holdSystem } from '../systems/hold-system.ts';
export type { ClientState, SessionEvents } from './session/client-session.ts';
export type { PresenceStatus, PresenceUser } from './protocol/session-messages.ts';
export type { KeyPair } from './session/identity.ts';
export { createKeyPair } from './session/identity.ts';
export type { Authorize, AuthorizeResult } from './session/server-session.ts';
export {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_RESUME_WINDOW_MS,
  DEFAULT_RATE_LIMITS,
  DEFAULT_RECONNECT,
  DEFAULT_IDLE,
  DEFAULT_CAPACITY,
  MAX_HELLO_BYTES,
} from './session/session-options.ts';
export type { ResyncBudgetOptions, ResyncCounters } from './replication/resync-budget.ts';
export type { ScopeCounters, ScopeLimits } from './replication/scope-names.ts';
export type { CommandLimits } from './authority/command-quota.ts';
export type { CommandSnapshotFigures } from './authority/command-snapshot.ts';

// Types that the signatures above mention, exported so that applications can name them.
export type {
  ScalarFieldSpec,
  QuantizedFieldSpec,
  QuatFieldSpec,
  EnumFieldSpec,
  EntityFieldSpec,
  ShortStringFieldSpec,
} from './protocol/field-schema.ts';
export type { CompiledField, NumericArray } from './replication/compiled-field.ts';
export type { PriorityFn } from './replication/server-replicator.ts';
export type { Emitter, ReplicationEvents } from './events.ts';
export type { Connection } from './connection/connection.ts';
export type { ConnectionStats } from './connection/connection-stats.ts';
export type { ConnectionHandler } from './connection/connection-options.ts';
export type { ServerPeer, PeerCounters, PeerState } from './session/server-peer.ts';
export type { HelloBody } from './protocol/handshake.ts';
export type { LinkCounters } from './transport/socket-link.ts';
export type { LinkConditionerStats } from './transport/link-conditioner.ts';
export type { MemoryNetworkOptions, MemoryLinkStats, LinkPairConditions } from './transport/memory-transport.ts';
export type { WebSocketConstructor, WebSocketClientLink } from './transport/websocket-client-transport.ts';
export type { VrClientStats, VrServerStats } from './vr/vr-context.ts';
export type { DeviceKindId } from './vr/server-pose-validator.ts';
export type { PositionInterpolation } from './vr/interpolation-buffer.ts';
export type { GripState } from '../components/grip-state.ts';
export type { TrackedPose } from '../components/tracked-pose.ts';
export type { Interpolated } from '../components/interpolated.ts';
export type { Predicted } from '../components/predicted.ts';
export type { RenderPose } from '../components/render-pose.ts';
export type { CommandLog, CommandCheck, CommandRefusal, CommandRow } from './authority/command-log.ts';
export type { LamportClock } from './authority/lamport.ts';
export type { SessionControl, ControlResult } from './authority/session-control.ts';
export type { CommandCounters } from './authority/command-sequencer.ts';
export type { OwnershipCounters } from './authority/ownership-arbiter.ts';
export type { OwnershipDenial } from './authority/authority-wire.ts';
export { addWriteRule, writeGateStatsOf, writeAs, WriteVerdict } from './write-api.ts';
export type { WriteCheck, WriteGateCounters, WritePath, WriteRule, WriteOutcome } from './write-api.ts';
export type { RateLimitOptions, ReconnectOptions, IdleOptions, CapacityOptions } from './session/session-options.ts';
export type { ServerSessionStats } from './session/server-capacity.ts';
export { createTelemetryReporter, DEFAULT_TELEMETRY_RATE_HZ } from './telemetry/telemetry-reporter.ts';
export type {
  TelemetryReporter,
  TelemetryReporterOptions,
  TelemetryReporterStats,
} from './telemetry/telemetry-reporter.ts';
export { createTelemetryAggregator } from './telemetry/telemetry-aggregator.ts';
export type {
  TelemetryAggregator,
  TelemetryAggregatorOptions,
  TelemetryAggregatorStats,
  TelemetryEvents,
  ClientTelemetry,
} from './telemetry/telemetry-aggregator.ts';
export type { RoomTelemetry } from './telemetry/telemetry-aggregate.ts';
export type { TelemetryReport } from './telemetry/telemetry-codec.ts';
export { awarenessField } from './awareness/awareness-schema.ts';
export type {
  AwarenessSchema,
  AwarenessFieldSpec,
  AwarenessKind,
  AwarenessValue,
  AwarenessRecord,
} from './awareness/awareness-schema.ts';
export type { AwarenessEvents } from './awareness/awareness-record.ts';
export type { ClearReason } from './awareness/awareness-wire.ts';
export type { AwarenessRelevance } from './awareness/awareness-relevance.ts';
export { createServerAwareness } from './awareness/server-awareness.ts';
export type { ServerAwareness, ServerAwarenessOptions, ServerAwarenessStats } from './awareness/server-awareness.ts';
export { createClientAwareness } from './awareness/client-awareness.ts';
export type { ClientAwareness, ClientAwarenessOptions, ClientAwarenessStats } from './awareness/client-awareness.ts';
export { createVoice } from './voice/voice-mesh.ts';
export type { Voice, VoiceEvents, VoicePeerInfo } from './voice/voice-mesh.ts';
export type { VoiceOptions } from './voice/voice-options.ts';
export {
  DEFAULT_VOICE_MAX_PEERS,
  DEFAULT_SPEAKING_THRESHOLD,
  DEFAULT_SPEAKING_HOLD_MS,
} from './voice/voice-options.ts';
export type { VoiceStats } from './voice/voice-stats.ts';
export { createLevelMeter } from './voice/level-meter.ts';
export type { LevelMeter } from './voice/level-meter.ts';
export { rmsLevel, SpeakingGate } from './voice/speaking-gate.ts';
// Scale-out, client side (the Node side is `ecsync/scale`): join a room through the matchmaker, follow it on a move.
export { joinRoom, requestSeat, connectToSeat } from './scale/join-room.ts';
export type {
  GeckosSeatConnector,
  JoinRoomOptions,
  RoomClient,
  RoomClientOptions,
  RoomSeat,
  RoomTransportKind,
  SeatAddress,
  SeatConnection,
  SeatRequest,
} from './scale/join-room.ts';
export { moveClient } from './world-api.ts';
export type { MoveNotice } from './protocol/session-messages.ts';
// Assets: content-addressed binary assets (glTF models, textures, sounds) streamed in chunks on the reliable lane.
export { createServerAssets } from './assets/server-assets.ts';
export type { ServerAssets, ServerAssetsOptions } from './assets/server-assets.ts';
export { createClientAssets } from './assets/client-assets.ts';
export type { ClientAssets, ClientAssetsOptions } from './assets/client-assets.ts';
export type {
  AssetMeta,
  ReceivedAsset,
  ServerAssetEvents,
  ServerAssetStats,
  ClientAssetEvents,
  ClientAssetStats,
} from './assets/asset-api.ts';
export type { AssetManifest } from './assets/asset-manifest.ts';
export { ContentCache, DEFAULT_CACHE_BYTES } from './assets/content-cache.ts';
export type { ContentCacheStats } from './assets/content-cache.ts';
export {
  DEFAULT_MAX_ASSET_BYTES,
  DEFAULT_ASSET_CHUNK_BYTES,
  DEFAULT_ASSET_BANDWIDTH_SHARE,
} from './assets/asset-limits.ts';
export { MAX_ASSET_CHUNK_BYTES } from './assets/asset-wire.ts';
// Hand tracking (issue 16 §1): WebXR hands on controller entities, compact delta-coded joints.
export { addHandTracking, writeHandJoints, handStatsOf } from './vr/hand-tracking.ts';
export type { HandTracking, HandTrackingOptions, HandStats } from './vr/hand-tracking.ts';
export type { HandClientStats, HandServerStats } from './vr/hand-context.ts';
export { createHandComponents } from '../components/hand-components.ts';
export type { HandComponents } from '../components/hand-components.ts';
export type { TrackedHand } from '../components/tracked-hand.ts';
export type { RenderHand } from '../components/render-hand.ts';
export { HAND_JOINTS_LENGTH } from '../components/tracked-hand.ts';
export { HAND_JOINT_NAMES, HAND_JOINT_COUNT, FINGERTIP_JOINTS } from './vr/hand-skeleton.ts';
export { handRenderSystem } from '../systems/hand-render-system.ts';
export type { VoiceMediaStream, VoiceAudioContext, VoicePeerState, VoiceIceServer } from './voice/voice-dom.ts';
export { DEFAULT_CAPABILITIES, hasCapability } from './authority/roles.ts';
export type { Capability } from './authority/roles.ts';
// Resume catch-up (Resync {lastSeq} answered by a Deltas batch, snapshot fallback)
export { catchUpStatsOf } from './catch-up-api.ts';
export { fidelityStatsOf, type FidelityStats } from './fidelity-api.ts';
export type { FidelityLevel, FidelityOptions, FidelityPosition } from './replication/fidelity-options.ts';
export type { FidelityCounters } from './replication/fidelity.ts';
export type { ServerCatchUpStats, ClientCatchUpStats } from './catch-up-api.ts';
export type { CatchUpOptions, CatchUpServerCounters } from './replication/catch-up-server.ts';
export type { CatchUpClientCounters } from './replication/catch-up-client.ts';
export type { ChangeHistoryCounters, ChangeHistoryOptions } from './replication/change-history.ts';
// Held objects as attachments (issue 16 §2): drawn rigidly in the holder's hand, grab and release blended.
export { addAttachments, attachTo, detach, attachmentStatsOf, DEFAULT_ATTACH_BLEND_MS } from './vr/attachments.ts';
export type { AttachmentOptions, AttachmentStats } from './vr/attachments.ts';
export { registerAttachment } from './vr/attachment-protocol.ts';
export { createAttachment } from '../components/attachment.ts';
export type { Attachment } from '../components/attachment.ts';
export { attachmentSystem } from '../systems/attachment-system.ts';
export { registerFlight } from './vr/attachment-protocol.ts';
export { createFlight } from '../components/flight.ts';
export type { Flight } from '../components/flight.ts';
export { addServerFlights, GRAVITY_MS2 } from './vr/server-flights.ts';
export type { ServerFlightOptions, ServerFlightStats } from './vr/server-flights.ts';
