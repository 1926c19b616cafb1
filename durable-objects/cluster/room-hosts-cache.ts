/**
 * A ConnectionHost's copy of the host lists of the rooms it broadcasts to, so that a broadcast
 * does not ask the room's RoomDO every time (1 + H calls become H). Coherent by invalidation:
 * the RoomDO records, durably, which hosts hold a copy (room-subscribers.ts) and tells each of
 * them before a change that adds a host completes — before the join that caused it is acked —
 * so a broadcast started after a member's join was acked always reaches that member's host.
 * A host that is removed needs no notice: a stale copy only costs a call that matches nobody.
 *
 * Races: an invalidation can arrive while a fetch of the list is in flight (the reply and the
 * notice travel separately); a fetch that began before any invalidation since is used for its
 * own broadcast (which began before the join was acked) but not kept.
 * Copies expire after HOSTS_CACHE_TTL_MS (measured from before the fetch; the RoomDO keeps the
 * subscription at least as long), which bounds staleness if a notice was ever lost.
 */
import { z } from "zod";

/** How long a copy is used; the RoomDO keeps a subscription at least this long after each fetch. */
export const HOSTS_CACHE_TTL_MS = 30_000;
/** Rooms whose lists a host keeps at once (memory bound); beyond this it starts again. */
const MAX_CACHED_ROOMS = 10_000;

/** A RoomDO's answer to a subscribing host: its hosts, and whether the host may keep them (subscribers are capped). */
export type RoomHostsAnswer = { hosts: string[]; cacheable: boolean };

/** The key a copy is kept and invalidated under (the RoomDO's name: namespace and room, null for the namespace). */
export const RoomKeySchema = z.string().min(1).max(2048);
export function roomKeyOf(nsp: string, room: string | null): string {
  return JSON.stringify([nsp, room]);
}

export class RoomHostsCache {
  private readonly entries = new Map<string, { hosts: string[]; until: number }>();
  /** Bumped by every invalidation: a fetch that began before one is not kept. */
  private epoch = 0;

  constructor(private readonly fetch: (nsp: string, room: string | null, key: string) => Promise<RoomHostsAnswer>) {}

  async hosts(nsp: string, room: string | null): Promise<string[]> {
    const key = roomKeyOf(nsp, room);
    const started = Date.now();
    const copy = this.entries.get(key);
    if (copy && copy.until > started) return copy.hosts;
    const epoch = this.epoch;
    const answer = await this.fetch(nsp, room, key);
    if (answer.cacheable && epoch === this.epoch) {
      if (this.entries.size >= MAX_CACHED_ROOMS) this.entries.clear();
      this.entries.set(key, { hosts: answer.hosts, until: started + HOSTS_CACHE_TTL_MS });
    }
    return answer.hosts;
  }

  /** The room's hosts changed (a host was added): the copy goes, and fetches under way are not kept. */
  invalidate(key: string): void {
    this.epoch += 1;
    this.entries.delete(key);
  }
}
