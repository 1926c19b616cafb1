/**
 * Identifiers that route: Engine.IO session ids (signed) and Socket.IO socket ids.
 *
 * socket id = <host>.<random><tag>    host = base64url(host name), random = 9 bytes, tag = bytes
 *                                     0–5 of H = HMAC-SHA256(secret, "socket:<host>.<random>"), 20
 *                                     characters together, so `to(socketId)` reaches the owning host
 *                                     without a lookup, and a client cannot make the service address
 *                                     (and so create) a ConnectionHost of its choosing with a made-up id.
 * sid       = <host>.<random>.<mac>   random = 9 bytes, mac = bytes 6–21 of the same H: a session and
 *                                     the id of its first socket come from one HMAC (issue 11: one per
 *                                     connect). The two share <host>.<random> and nothing else: a
 *                                     socket id (rooms and broadcasts show them) gives none of the
 *                                     sid's 16 MAC bytes, a sid none of the socket id's tag.
 *   (legacy)  <host>.<random>.<mac>   random = 16 bytes, mac = bytes 0–15 of HMAC-SHA256(secret,
 *                                     "<host>.<random>"): still verified, for sessions minted before.
 *
 * Any Worker isolate can therefore send every later request of a session to the one
 * ConnectionHost that owns it, and no one can mint or alter a sid without the secret.
 */

import { base64url, fromBase64url } from "./base64";
import { constantTimeEqual, hmacBuffer, hmacBytes } from "./hmac";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Bytes from the CSPRNG, drawn 4 KiB at a time instead of one call per token (a connect mints
 * two); each byte is handed out once.
 */
const randomPool = new Uint8Array(4096);
let randomAt = randomPool.length;

export function randomToken(byteLength: number): string {
  if (byteLength > randomPool.length) return base64url(crypto.getRandomValues(new Uint8Array(byteLength)));
  if (randomAt + byteLength > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomAt = 0;
  }
  const bytes = randomPool.subarray(randomAt, randomAt + byteLength);
  randomAt += byteLength;
  return base64url(bytes);
}

/** A host name as ids carry it (base64url), per name: every sid and socket id of a host starts with it. */
const encodedHosts = new Map<string, string>();

function hostPart(host: string): string {
  let part = encodedHosts.get(host);
  if (part === undefined) {
    if (encodedHosts.size >= 4096) encodedHosts.clear();
    part = base64url(encoder.encode(host));
    encodedHosts.set(host, part);
  }
  return part;
}

const HOST_NAME = /^[a-z0-9-]{1,32}:\d{1,4}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

const EIO3_PREFIX = "eio3-";

const SOCKET_RANDOM_BYTES = 9;
const SOCKET_RANDOM_CHARS = 12; // 9 bytes
const SOCKET_TAG_BYTES = 6; // 8 characters
const SID_MAC_BYTES = 16; // 22 characters
const LEGACY_SID_RANDOM_CHARS = 22; // 16 bytes

/**
 * A pool member's name: `<colo>:<index>`, e.g. `local:2` or `fra:0`. Engine.IO v3 sessions have
 * their own pool, `eio3-<colo>:<index>`: a Durable Object has one WebSocket auto-response pair,
 * and v3 heartbeats need "2" → "3" where v4 hosts answer pongs with "3" → "6".
 */
export function hostName(colo: string, index: number, eio3 = false): string {
  const clean = colo
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "")
    .slice(0, eio3 ? 32 - EIO3_PREFIX.length : 32);
  return `${eio3 ? EIO3_PREFIX : ""}${clean || "local"}:${index}`;
}

/** Whether a host name is one of the Engine.IO v3 pool (see hostName). */
export function isEio3Host(name: string): boolean {
  return name.startsWith(EIO3_PREFIX);
}

function decodeHost(part: string): string | null {
  if (!B64URL.test(part) || part.length > 64) return null;
  try {
    const name = decoder.decode(fromBase64url(part));
    return HOST_NAME.test(name) ? name : null;
  } catch {
    return null;
  }
}

/** base64url of `length` bytes of HMAC-SHA256(secret, message) from `offset`: one promise, no copy (minted on every connect). */
function macPart(secret: string, message: string, offset: number, length: number): Promise<string> {
  return hmacBuffer(secret, message).then((signature) => base64url(new Uint8Array(signature, offset, length)));
}

/** A new session's sid and the id of its first socket, from one HMAC (see the header). */
export function mintSession(secret: string, host: string): Promise<{ sid: string; socketId: string }> {
  const body = `${hostPart(host)}.${randomToken(SOCKET_RANDOM_BYTES)}`;
  return hmacBuffer(secret, `socket:${body}`).then((signature) => ({
    sid: `${body}.${base64url(new Uint8Array(signature, SOCKET_TAG_BYTES, SID_MAC_BYTES))}`,
    socketId: `${body}${base64url(new Uint8Array(signature, 0, SOCKET_TAG_BYTES))}`,
  }));
}

/** The host a sid names, or null when the sid is malformed or its signature does not match. */
export async function verifySid(secret: string, sid: string): Promise<string | null> {
  if (sid.length > 160) return null;
  const parts = sid.split(".");
  if (parts.length !== 3) return null;
  const [hostPart, random, signature] = parts;
  const legacy = random.length === LEGACY_SID_RANDOM_CHARS;
  if (!B64URL.test(random) || (random.length !== SOCKET_RANDOM_CHARS && !legacy)) return null;
  const host = decodeHost(hostPart);
  if (!host) return null;
  const expected = legacy
    ? await macPart(secret, `${hostPart}.${random}`, 0, SID_MAC_BYTES)
    : await macPart(secret, `socket:${hostPart}.${random}`, SOCKET_TAG_BYTES, SID_MAC_BYTES);
  return constantTimeEqual(expected, signature) ? host : null;
}

/** A socket id alone: the session's second namespace, or a first CONNECT after an eviction lost the one minted with the sid. */
export function mintSocketId(secret: string, host: string): Promise<string> {
  const body = `${hostPart(host)}.${randomToken(SOCKET_RANDOM_BYTES)}`;
  return socketTag(secret, body).then((tag) => `${body}${tag}`);
}

function socketTag(secret: string, body: string): Promise<string> {
  return macPart(secret, `socket:${body}`, 0, SOCKET_TAG_BYTES);
}

/**
 * The host a room name would address if it were a socket id, or null for an ordinary room
 * name. Syntax only: use it to refuse such names, never to route (see verifySocketId).
 */
export function hostOfSocketId(room: string): string | null {
  const parts = room.split(".");
  if (parts.length !== 2 || parts[1].length !== 20 || !B64URL.test(parts[1])) return null;
  return decodeHost(parts[0]);
}

/** The host owning a socket id this service minted, or null (an ordinary room name or a forgery). */
export async function verifySocketId(secret: string, room: string): Promise<string | null> {
  const host = hostOfSocketId(room);
  if (!host) return null;
  const split = room.length - (20 - SOCKET_RANDOM_CHARS);
  const expected = await socketTag(secret, room.slice(0, split));
  return constantTimeEqual(expected, room.slice(split)) ? host : null;
}

/**
 * Connection-state recovery's private session id (Socket.IO's `pid`): `<socket id>.<mac>`, mac =
 * first 12 bytes of HMAC-SHA256(secret, "pid:<socket id>"). Only the socket's own client hears
 * it (in its CONNECT reply); knowing a socket id (rooms expose them) does not give its pid. It
 * names the socket, and through it the socket's home host, so any host can find the state.
 */
export async function mintPid(secret: string, socketId: string): Promise<string> {
  return `${socketId}.${base64url((await hmacBytes(secret, `pid:${socketId}`)).slice(0, 12))}`;
}

/** The socket id a pid names and its home host, or null (malformed or forged). */
export async function verifyPid(secret: string, pid: unknown): Promise<{ socketId: string; home: string } | null> {
  if (typeof pid !== "string" || pid.length > 120) return null;
  const cut = pid.lastIndexOf(".");
  if (cut < 0) return null;
  const socketId = pid.slice(0, cut);
  const home = await verifySocketId(secret, socketId);
  if (!home) return null;
  const expected = base64url((await hmacBytes(secret, `pid:${socketId}`)).slice(0, 12));
  return constantTimeEqual(expected, pid.slice(cut + 1)) ? { socketId, home } : null;
}
