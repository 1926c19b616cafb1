/** A ConnectionHost's SQLite tables (host-store.ts creates them in its constructor): sessions, the long-polling outbox, sockets, their rooms, host metadata. */
export const HOST_SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  sid TEXT PRIMARY KEY,
  transport TEXT NOT NULL,
  upgrading INTEGER NOT NULL DEFAULT 0,
  closing INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  connect_deadline INTEGER,
  last_pong_at INTEGER NOT NULL,
  handshake TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sid TEXT NOT NULL,
  frame TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_sid ON outbox (sid, seq);
CREATE TABLE IF NOT EXISTS sockets (
  id TEXT PRIMARY KEY,
  sid TEXT NOT NULL,
  nsp TEXT NOT NULL,
  auth TEXT NOT NULL,
  data TEXT NOT NULL,
  connected_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sockets_by_sid ON sockets (sid);
DROP INDEX IF EXISTS sockets_by_nsp;
CREATE TABLE IF NOT EXISTS socket_rooms (
  socket_id TEXT NOT NULL,
  room TEXT NOT NULL,
  PRIMARY KEY (socket_id, room)
);
CREATE INDEX IF NOT EXISTS rooms_by_room ON socket_rooms (room);
CREATE TABLE IF NOT EXISTS host_meta (
  key TEXT PRIMARY KEY,
  value
);
`;
