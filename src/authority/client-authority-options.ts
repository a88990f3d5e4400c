/** Options of the client's authority layer. */
import type { CommandTypes } from './command-log.ts';
import type { PoseAccess } from './hold.ts';

/** Options of `createClientAuthority`. */
export interface ClientAuthorityOptions {
  /** Command types of the command log (the same as the server's). */
  commandTypes?: CommandTypes;
  /** Pose of grabbable objects: held objects follow their hand, and the release pose goes to the server. */
  pose?: PoseAccess;
  /** Pose of hands, when it lives in another component than the objects' (default: `pose`). */
  handPose?: PoseAccess;
  /** Time to wait for an action's answer (default 30 s). */
  actionTimeoutMs?: number;
  /**
   * Verify every relayed command entry with its author's public key before applying it (default true). Costs one
   * Ed25519 verify per entry: ~0.1 ms on Node's crypto, a few ms with tweetnacl in a browser.
   */
  verifyCommands?: boolean;
}
