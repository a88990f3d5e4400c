/** ecsync's public API. */
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
export { field, DEFAULT_QUAT_BITS } from './protocol/field-schema.ts';
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
export { createManualClock, systemClock } from './clock.ts';
export type { Clock, ManualClock } from './clock.ts';
export { createRandom } from './random.ts';
export type { Random } from './random.ts';
export type { Link, ServerTransport, ClientTransport } from './transport/transport.ts';
export { createMemoryNetwork } from './transport/memory-transport.ts';
export { createGeckosClientTransport } from './transport/geckos-client-transport.ts';
export type { GeckosClientTransportOptions } from './transport/geckos-client-transport.ts';
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
} from './session/session-options.ts';
export type { RateLimitOptions, ReconnectOptions, IdleOptions } from './session/session-options.ts';
