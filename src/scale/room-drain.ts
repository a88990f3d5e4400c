/**
 * Drain of a room process (on SIGTERM): it stops taking rooms (out of the load index, its rooms locked), then
 * either waits for its rooms to empty until a deadline, or hands each room to the least-loaded other process from a
 * snapshot: the adopter restores the room under the same id, and every client here gets a Move with the room's new
 * URLs (WebSocket, and geckos.io when the adopter serves it) and a fresh seat reservation there, then this copy
 * closes. A room no one can adopt is closed (Shutdown).
 */
import { randomUUID } from 'node:crypto';
import { NetError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import type { KeyPair } from '../session/identity.ts';
import { connectedClients, moveClient } from '../world-api.ts';
import type { RoomRuntime } from './hosted-room.ts';
import type { ScaleBackend } from './scale-backend.ts';
import { signReservation } from './seat-reservation.ts';

/** Internal side of a host, used by the drain. */
export interface HostInternals {
  readonly id: string;
  readonly backend: ScaleBackend;
  readonly keyPair: KeyPair;
  readonly runtimes: Map<string, RoomRuntime>;
  readonly onError?: ErrorHandler;
  setDraining(): Promise<void>;
  detach(room: RoomRuntime): Promise<void>;
}

/** How a process drains. */
export interface DrainOptions {
  /** 'handover' (default) moves every room at once; 'wait' lets rooms empty and hands over what is left at the deadline. */
  mode?: 'handover' | 'wait';
  /** How long 'wait' waits for rooms to empty (default 30 s). */
  deadlineMs?: number;
  /** How long a moved client's reservation on the adopting process lasts (default 15 s). */
  moveReservationMs?: number;
  /** How long moved clients have to close their old links before the room closes them (default 3 s). */
  moveGraceMs?: number;
  /** How long an adoption may take (default 5 s). */
  adoptTimeoutMs?: number;
}

/** What a drain did. */
export interface DrainReport {
  /** Rooms that emptied by themselves while waiting. */
  emptied: number;
  /** Rooms handed to another process. */
  handedOver: number;
  /** Clients sent a Move. */
  movedClients: number;
  /** Rooms closed because no process could adopt them (their clients got Shutdown). */
  closed: number;
}

/** How long moved clients have to close their links to the old process before it closes them. */
const DEFAULT_MOVE_GRACE_MS = 3000;

/** How often 'wait' looks whether the rooms are empty. */
const WAIT_POLL_MS = 100;

async function handOver(
  host: HostInternals,
  room: RoomRuntime,
  options: DrainOptions,
  report: DrainReport,
): Promise<void> {
  const target = await host.backend.leastLoadedProcess(host.id);
  let adopted = false;
  if (target) {
    await host.backend.patchRoom(room.id, { state: 'moving' });
    let snapshot = '';
    try {
      snapshot = room.definition.save ? Buffer.from(room.definition.save(room)).toString('base64') : '';
    } catch (e) {
      host.onError?.(new NetError('InternalError', `save of room ${room.id} threw: ${String(e)}`));
    }
    // From here the registry's record is the adopter's: this copy must not sync it any more.
    room.detached = true;
    const reply = await host.backend.sendCommand(
      target.id,
      { op: 'adopt', roomId: room.id, name: room.name, snapshot, from: host.id },
      options.adoptTimeoutMs ?? 5000,
    );
    if (reply.ok) {
      adopted = true;
      report.handedOver++;
      for (const [clientId, userId] of room.users()) {
        const seatId = randomUUID();
        const seat = await host.backend.reserveById(room.id, seatId, options.moveReservationMs ?? 15_000, true);
        if (!seat.ok) continue;
        const token = signReservation({ roomId: room.id, seatId, userId, expiresAtMs: seat.expiresAtMs }, host.keyPair);
        // Both addresses of the adopter: a client follows over the transport kind it uses now.
        const notice = { url: reply.room.wsUrl, token, geckosUrl: reply.room.geckosUrl };
        if (moveClient(room.world, clientId, notice)) report.movedClients++;
      }
      // Keep the links open until the clients have read the Move and closed them: a link cut at once could lose it.
      const until = performance.now() + (options.moveGraceMs ?? DEFAULT_MOVE_GRACE_MS);
      while (connectedClients(room.world).length > 0 && performance.now() < until)
        await new Promise((r) => setTimeout(r, WAIT_POLL_MS / 4));
    } else {
      host.onError?.(
        new NetError('MatchmakerUnavailable', `process ${target.id} did not adopt room ${room.id}: ${reply.error}`),
      );
    }
  }
  if (!adopted) {
    report.closed++;
    await host.backend.removeRoom(room.id).catch(() => undefined);
  }
  await host.detach(room);
}

/** Drains `host` (the host closes itself afterwards). */
export async function drainHost(host: HostInternals, options: DrainOptions): Promise<DrainReport> {
  const report: DrainReport = { emptied: 0, handedOver: 0, movedClients: 0, closed: 0 };
  await host.setDraining();
  if (options.mode === 'wait') {
    const until = performance.now() + (options.deadlineMs ?? 30_000);
    while (performance.now() < until) {
      for (const room of [...host.runtimes.values()]) {
        if (room.seatsInUse() > 0) continue;
        const record = await host.backend.getRoom(room.id);
        if (record && record.reserved > 0) continue;
        room.detached = true;
        await host.backend.removeRoom(room.id);
        await host.detach(room);
        report.emptied++;
      }
      if (host.runtimes.size === 0) return report;
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
  }
  for (const room of [...host.runtimes.values()]) await handOver(host, room, options, report);
  return report;
}
