/**
 * Aggregate queries over a ConnectionHost's socket and room tables, run in SQLite rather than
 * from the in-memory copy: the distinct users and rooms of the load report (stats/host-load.ts;
 * once per instance, then counted in memory) and the room members of lease renewals
 * (socketio/room-membership.ts). Both see every socket, kept-back ones (host-store.ts) included.
 * A layer of HostStore's class chain (sockets → socket queries → outbox → sessions and meta),
 * kept apart from the caches.
 */
import { LoadIndex } from "./host-load-index";
import { SocketTables } from "./host-sockets";

export class SocketQueries extends SocketTables {
  /**
   * The distinct users and rooms of this host's sockets (the load report: stats/host-load.ts).
   * Read from SQLite (and the attachments of sockets not written yet) once per instance, then
   * kept in step by write-through (host-sockets.ts): a report after that reads no row.
   */
  loadCounts(): LoadIndex {
    if (this.loadIndex) return this.loadIndex;
    this.restoreKeptBack();
    const index = new LoadIndex();
    const users = this.sql
      .exec<{ id: string; user: string }>(
        "SELECT id, json_extract(data, '$.user.id') AS user FROM sockets WHERE json_valid(data) AND json_type(data, '$.user.id') = 'text'",
      )
      .toArray();
    for (const row of users) index.setUser(row.id, row.user);
    for (const row of this.keptBackSockets()) index.setData(row.id, row.data);
    const rooms = this.sql
      .exec<{ nsp: string; room: string; n: number }>(
        "SELECT s.nsp AS nsp, r.room AS room, COUNT(*) AS n FROM socket_rooms r JOIN sockets s ON s.id = r.socket_id WHERE r.room != r.socket_id GROUP BY s.nsp, r.room",
      )
      .toArray();
    for (const row of rooms) index.addMembers(row.nsp, row.room, row.n);
    this.loadIndex = index;
    return index;
  }

  /**
   * Every (socket, room) pair but a socket's own id, with the socket's data (lease renewals).
   * Kept-back sockets have no pair to add: a membership row is a write, and it writes them first.
   */
  roomMembers(): Array<{ nsp: string; room: string; id: string; data: string }> {
    return this.sql
      .exec<{ nsp: string; room: string; id: string; data: string }>(
        "SELECT s.nsp AS nsp, r.room AS room, s.id AS id, s.data AS data FROM socket_rooms r JOIN sockets s ON s.id = r.socket_id WHERE r.room != r.socket_id",
      )
      .toArray();
  }
}
