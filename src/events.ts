/** A small typed event emitter for the plugin's events (spawn, despawn, ownership, state, error). */
export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly listeners: { [K in keyof Events]?: Array<(...args: Events[K]) => void> } = {};

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    (this.listeners[event] ??= []).push(listener);
    return () => this.off(event, listener);
  }

  /** Unsubscribes a listener. */
  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): void {
    const list = this.listeners[event];
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Calls every listener of `event` in subscription order. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const list = this.listeners[event];
    if (!list) return;
    for (const l of [...list]) l(...args);
  }
}

/** Events of the replication layer, on both peers. */
export type ReplicationEvents = {
  /** A replicated entity appeared here (client: created locally). */
  spawn: [eid: number, netId: number];
  /** A replicated entity went away; `outOfInterest` when it still exists on the server. */
  despawn: [eid: number, netId: number, outOfInterest: boolean];
  /** The owner of an entity changed (0 = server). */
  ownership: [eid: number, owner: number];
  /** Server: an entity entered (true) or left (false) a client's interest. */
  interest: [clientId: number, eid: number, entered: boolean];
};
