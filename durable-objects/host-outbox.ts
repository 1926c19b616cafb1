/**
 * The long-polling outbox of a ConnectionHost: frames queued in SQLite (table `outbox`, created
 * with the others in host-store.ts) for sessions whose client is not holding a GET, with their
 * count and length kept in memory. A layer of HostStore's class chain (sockets → socket queries →
 * outbox → sessions and meta), so callers keep one store; moved out of host-store.ts to keep
 * each module to one concern.
 */
import { SocketQueries } from "./host-socket-queries";

export class PollOutbox extends SocketQueries {
  /** Queued frames and characters per session, counted once from SQLite, then kept in step. */
  protected readonly queueSizes = new Map<string, { frames: number; bytes: number }>();

  enqueue(sid: string, frames: string[]): void {
    this.persistSession(sid); // a queued frame names its session (long-polling sessions are written at their handshake)
    const size = this.queueSize(sid);
    for (const frame of frames) {
      this.sql.exec("INSERT INTO outbox (sid, frame) VALUES (?, ?)", sid, frame);
      size.frames += 1;
      size.bytes += frame.length;
    }
  }

  /** Frames queued for a session and their total length in characters. */
  queueSize(sid: string): { frames: number; bytes: number } {
    let size = this.queueSizes.get(sid);
    if (!size) {
      const row = this.sql
        .exec<{ n: number; bytes: number | null }>("SELECT COUNT(*) AS n, SUM(LENGTH(frame)) AS bytes FROM outbox WHERE sid = ?", sid)
        .one();
      size = { frames: row.n, bytes: row.bytes ?? 0 };
      this.queueSizes.set(sid, size);
    }
    return size;
  }

  clearQueue(sid: string): void {
    // A queue known to be empty (every WebSocket session's) has no rows to delete.
    if (this.queueSizes.get(sid)?.frames !== 0) this.sql.exec("DELETE FROM outbox WHERE sid = ?", sid);
    this.queueSizes.delete(sid);
  }

  /** The queued frames of a session, oldest first, without removing them (see `deleteUpTo`). */
  peek(sid: string): { frames: string[]; lastSeq: number } {
    // An empty queue (the usual case with a GET held) is known without a read.
    if (this.queueSize(sid).frames === 0) return { frames: [], lastSeq: 0 };
    const rows = this.sql.exec<{ seq: number; frame: string }>("SELECT seq, frame FROM outbox WHERE sid = ? ORDER BY seq", sid).toArray();
    return { frames: rows.map((row) => row.frame), lastSeq: rows.length > 0 ? rows[rows.length - 1].seq : 0 };
  }

  /** Removes frames up to `seq` once their delivery is confirmed. */
  deleteUpTo(sid: string, seq: number): void {
    if (seq <= 0) return;
    this.sql.exec("DELETE FROM outbox WHERE sid = ? AND seq <= ?", sid, seq);
    this.queueSizes.delete(sid);
  }

  /**
   * Puts frames a held GET carried but its client never got back in the queue, where they were:
   * after the queued frames up to `afterSeq` (the ones that GET carried too), before later ones.
   */
  requeue(sid: string, afterSeq: number, frames: string[]): void {
    if (frames.length === 0) return;
    const later = this.sql
      .exec<{ frame: string }>("SELECT frame FROM outbox WHERE sid = ? AND seq > ? ORDER BY seq", sid, afterSeq)
      .toArray()
      .map((row) => row.frame);
    if (later.length > 0) this.sql.exec("DELETE FROM outbox WHERE sid = ? AND seq > ?", sid, afterSeq);
    this.queueSizes.delete(sid);
    this.enqueue(sid, [...frames, ...later]);
  }

  /**
   * Removes and returns the queued frames of a session, oldest first; `unconfirmed` (frames an
   * abandoned GET carried, not in the queue) go back in their place, after the frames up to
   * `afterSeq`.
   */
  drain(sid: string, unconfirmed: { afterSeq: number; frames: string[] } = { afterSeq: 0, frames: [] }): string[] {
    if (this.queueSize(sid).frames === 0) return [...unconfirmed.frames];
    const rows = this.sql.exec<{ seq: number; frame: string }>("SELECT seq, frame FROM outbox WHERE sid = ? ORDER BY seq", sid).toArray();
    if (rows.length > 0) this.deleteUpTo(sid, rows[rows.length - 1].seq);
    this.queueSizes.set(sid, { frames: 0, bytes: 0 });
    const before = rows.filter((row) => row.seq <= unconfirmed.afterSeq).map((row) => row.frame);
    const after = rows.filter((row) => row.seq > unconfirmed.afterSeq).map((row) => row.frame);
    return [...before, ...unconfirmed.frames, ...after];
  }
}
