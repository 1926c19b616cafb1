/**
 * Ids presence shows to clients in place of socket ids. A socket id routes (`to(socketId)`
 * reaches that socket), so it never leaves the server in presence; these are SHA-256 digests
 * of it: stable, opaque, and useless as a target. The socket id's random part is unguessable,
 * so the digest cannot be inverted by trying candidates.
 */

async function digest(label: string, ...parts: string[]): Promise<string> {
  const bytes = new TextEncoder().encode([label, ...parts].join("\0"));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).subarray(0, 16);
  let text = "";
  for (const byte of hash) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** One connection's id in one room (`roomKey`: the RoomDO's id): differs from room to room. */
export function memberIdOf(roomKey: string, socketId: string): Promise<string> {
  return digest("edgeio-member", roomKey, socketId);
}

/** The device id of a connection whose app named no device; RoomDO and UserDO agree on it. */
export async function fallbackDeviceIdOf(socketId: string): Promise<string> {
  return `conn-${await digest("edgeio-device", socketId)}`;
}
