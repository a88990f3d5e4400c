/**
 * Notifications: `Notify {domain, event, correlationId}`. Clients subscribe to domains ('world', 'rewards', ...)
 * and the server sends each client only the domains it subscribed to, so nothing is wasted on the wire; a
 * notification may also target one client or one user.
 */

/** Domains one client may be subscribed to at once: UIs use a handful; bounds server memory per client. */
export const MAX_DOMAINS_PER_CLIENT = 64;

/** Who a notification goes to: every subscriber, one client, or every client of one user. */
export type NotifyTarget =
  | number
  | {
      /** Every client of this user (the authorize hook's userId). */
      userId: string;
    };

/** The server's subscription table. */
export class NotificationHub {
  private readonly subscriptions = new Map<number, Set<string>>();

  /** Adds domains to a client's subscriptions (those `allow` refuses, and any beyond the cap, are skipped). */
  subscribe(clientId: number, domains: readonly string[], allow: (domain: string) => boolean): string[] {
    let set = this.subscriptions.get(clientId);
    if (!set) this.subscriptions.set(clientId, (set = new Set()));
    const refused: string[] = [];
    for (const d of domains) {
      if (set.has(d)) continue;
      if (set.size >= MAX_DOMAINS_PER_CLIENT || !allow(d)) refused.push(d);
      else set.add(d);
    }
    return refused;
  }

  /** Removes domains from a client's subscriptions. */
  unsubscribe(clientId: number, domains: readonly string[]): void {
    const set = this.subscriptions.get(clientId);
    if (!set) return;
    for (const d of domains) set.delete(d);
  }

  /** True when `clientId` subscribed to `domain`. */
  isSubscribed(clientId: number, domain: string): boolean {
    return this.subscriptions.get(clientId)?.has(domain) ?? false;
  }

  /** A client's domains. */
  domainsOf(clientId: number): string[] {
    return [...(this.subscriptions.get(clientId) ?? [])];
  }

  /** A client left for good. */
  forget(clientId: number): void {
    this.subscriptions.delete(clientId);
  }

  /** Of `candidates`, the clients subscribed to `domain`. */
  recipients(domain: string, candidates: Iterable<number>): number[] {
    const out: number[] = [];
    for (const id of candidates) if (this.isSubscribed(id, domain)) out.push(id);
    return out;
  }
}
