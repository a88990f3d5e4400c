/**
 * Who sees whose awareness. By default a viewer sees a user when they share a scope, or when the user's view
 * entity (its head, see `setViewEntity`) is in the viewer's interest; when neither subscribes to a scope and the
 * user has no view entity, everyone sees everyone. An application predicate replaces the rule.
 */
import type { PeerReplication } from '../replication/peer-replication.ts';

/** Decides whether client `viewerId` receives the awareness of client `userId`. */
export type AwarenessRelevance = (viewerId: number, userId: number) => boolean;

/** The default rule over the replication state of the two clients. */
export function sharesInterest(viewer: PeerReplication, user: PeerReplication): boolean {
  const viewerScopes = viewer.interest.scopes;
  const userScopes = user.interest.scopes;
  const view = user.interest.viewEntity;
  if (viewerScopes.size === 0 && userScopes.size === 0 && view === 0) return true;
  for (const s of userScopes) if (viewerScopes.has(s)) return true;
  return view !== 0 && viewer.knows(view);
}
