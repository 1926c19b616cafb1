/**
 * Aggregate queries over a ConnectionHost's socket and room tables, run in SQLite rather than
 * from the in-memory copy: the distinct users and rooms of the load report (stats/host-load.ts)
 * and the room members of lease renewals (socketio/room-membership.ts). Each first writes the
 * kept-back rows (host-store.ts) so the query sees every socket. A layer of HostStore's class
 * chain (sockets → socket queries → outbox → sessions and meta), kept apart from the caches.
 */
import { SocketTables } from "./host-sockets";

export class SocketQueries extends SocketTables {
  /**
   * Distinct user ids (`data.user.id`) of this host's sockets: the ids while there are at most
   * `limit`, else null, and the count. One SQL pass, run by the load report (stats/host-load.ts).
   */
  distinctUsers(limit: number): { ids: string[] | null; count: number } {
    this.writeKeptBack();
    const from = "FROM sockets WHERE json_valid(data) AND json_type(data, '$.user.id') = 'text'";
    const ids = this.sql.exec<{ id: string }>(`SELECT DISTINCT json_extract(data, '$.user.id') AS id ${from} LIMIT ?`, limit + 1).toArray();
    if (ids.length <= limit) return { ids: ids.map((row) => row.id), count: ids.length };
    return {
      ids: null,
      count: this.sql.exec<{ n: number }>(`SELECT COUNT(DISTINCT json_extract(data, '$.user.id')) AS n ${from}`).one().n,
    };
  }

  /** Distinct rooms per namespace (own-id rooms left out), as `JSON.stringify([nsp, room])` while at most `limit`. */
  distinctRooms(limit: number): { ids: string[] | null; perNamespace: Map<string, number> } {
    this.writeKeptBack();
    const from = "FROM socket_rooms r JOIN sockets s ON s.id = r.socket_id WHERE r.room != r.socket_id";
    const rows = this.sql
      .exec<{ nsp: string; room: string }>(`SELECT DISTINCT s.nsp AS nsp, r.room AS room ${from} LIMIT ?`, limit + 1)
      .toArray();
    const perNamespace = new Map<string, number>();
    if (rows.length <= limit) {
      for (const row of rows) perNamespace.set(row.nsp, (perNamespace.get(row.nsp) ?? 0) + 1);
      return { ids: rows.map((row) => JSON.stringify([row.nsp, row.room])), perNamespace };
    }
    const counts = this.sql
      .exec<{ nsp: string; n: number }>(`SELECT s.nsp AS nsp, COUNT(DISTINCT r.room) AS n ${from} GROUP BY s.nsp`)
      .toArray();
    for (const row of counts) perNamespace.set(row.nsp, row.n);
    return { ids: null, perNamespace };
  }

  /** Every (socket, room) pair but a socket's own id, with the socket's data (lease renewals). */
  roomMembers(): Array<{ nsp: string; room: string; id: string; data: string }> {
    this.writeKeptBack();
    return this.sql
      .exec<{ nsp: string; room: string; id: string; data: string }>(
        "SELECT s.nsp AS nsp, r.room AS room, s.id AS id, s.data AS data FROM socket_rooms r JOIN sockets s ON s.id = r.socket_id WHERE r.room != r.socket_id",
      )
      .toArray();
  }
}
