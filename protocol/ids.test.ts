import { describe, expect, it } from "vitest";
import { base64url } from "./base64";
import { hmacCounts, hmacBytes } from "./hmac";
import {
  hostName,
  hostOfSocketId,
  isEio3Host,
  mintPid,
  mintSession,
  mintSocketId,
  randomToken,
  verifyPid,
  verifySid,
  verifySocketId,
} from "./ids";

const SECRET = "unit-test-secret-0123456789";
const OTHER = "another-secret-0123456789";
const HOST = "fra:2";
const encodeHost = (host: string) => base64url(new TextEncoder().encode(host));
const mintSid = async (secret: string, host: string) => (await mintSession(secret, host)).sid;

/** Flips one character of `text` at `index` to another base64url character. */
function flip(text: string, index: number): string {
  const replacement = text[index] === "A" ? "B" : "A";
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe("hostName", () => {
  it("lowercases and strips the colo, falling back to 'local'", () => {
    expect(hostName("FRA", 0)).toBe("fra:0");
    expect(hostName("a b/c", 3)).toBe("abc:3");
    expect(hostName("", 1)).toBe("local:1");
    expect(hostName("x".repeat(40), 2)).toBe(`${"x".repeat(32)}:2`);
  });

  it("names the Engine.IO v3 pool apart, within the same syntax (sids and socket ids route to it)", async () => {
    expect(hostName("FRA", 1, true)).toBe("eio3-fra:1");
    expect(hostName("x".repeat(40), 2, true)).toBe(`eio3-${"x".repeat(27)}:2`);
    expect(isEio3Host("eio3-fra:1")).toBe(true);
    expect(isEio3Host("fra:1")).toBe(false);
    expect(await verifySid("0123456789abcdef", await mintSid("0123456789abcdef", hostName("x".repeat(40), 2, true)))).toBe(
      `eio3-${"x".repeat(27)}:2`,
    );
  });
});

describe("randomToken", () => {
  it("is base64url of the requested bytes and differs each time", () => {
    expect(randomToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomToken(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(randomToken(16)).not.toBe(randomToken(16));
  });
});

describe("mintSid / verifySid", () => {
  it("verifies its own sids and returns the host", async () => {
    const sid = await mintSid(SECRET, HOST);
    expect(sid.split(".")).toHaveLength(3);
    expect(await verifySid(SECRET, sid)).toBe(HOST);
  });

  it("mints a different sid each time", async () => {
    expect(await mintSid(SECRET, HOST)).not.toBe(await mintSid(SECRET, HOST));
  });

  it("refuses a sid signed with another secret", async () => {
    expect(await verifySid(OTHER, await mintSid(SECRET, HOST))).toBeNull();
  });

  it("refuses a tampered sid (host, random or signature)", async () => {
    const sid = await mintSid(SECRET, HOST);
    const [host, random, mac] = sid.split(".");
    expect(await verifySid(SECRET, `${encodeHost("fra:3")}.${random}.${mac}`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${flip(random, 5)}.${mac}`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${random}.${flip(mac, 0)}`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${random}.${mac}x`)).toBeNull();
  });

  it("refuses malformed and over-long sids", async () => {
    const sid = await mintSid(SECRET, HOST);
    const [host, random, mac] = sid.split(".");
    expect(await verifySid(SECRET, "")).toBeNull();
    expect(await verifySid(SECRET, `${host}.${random}`)).toBeNull();
    expect(await verifySid(SECRET, `${sid}.extra`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${random.slice(1)}.${mac}`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${random.slice(0, 11)}+.${mac}`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${random}.${mac}${"A".repeat(161)}`)).toBeNull();
  });

  it("refuses a validly signed sid whose host is not a host name", async () => {
    // Signed with the right secret, so only the host check can refuse it.
    const sid = await mintSid(SECRET, "not a host");
    expect(await verifySid(SECRET, sid)).toBeNull();
  });
});

describe("mintSession: a sid and its first socket id from one HMAC", () => {
  it("mints a sid and a socket id that each verify, with one signature for both", async () => {
    const before = hmacCounts.signatures;
    const { sid, socketId } = await mintSession(SECRET, HOST);
    expect(hmacCounts.signatures - before).toBe(1);
    expect(sid).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}$/);
    expect(await verifySid(SECRET, sid)).toBe(HOST);
    expect(await verifySocketId(SECRET, socketId)).toBe(HOST);
  });

  it("shares only <host>.<random>: neither id's MAC bytes are in the other, nor does either pass for the other", async () => {
    const { sid, socketId } = await mintSession(SECRET, HOST);
    const [host, random, mac] = sid.split(".");
    const tag = socketId.slice(-8);
    expect(socketId).toBe(`${host}.${random}${tag}`);
    expect(mac).not.toContain(tag);
    // A sid made from a socket id (its tag where the MAC goes, or padded to length) is refused.
    expect(await verifySid(SECRET, `${host}.${random}.${tag}`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${random}.${tag}${"A".repeat(14)}`)).toBeNull();
    // And a socket id made from a sid (the MAC's first bytes as its tag).
    expect(await verifySocketId(SECRET, `${host}.${random}${mac.slice(0, 8)}`)).toBeNull();
  });

  it("still verifies a sid of the previous form (16 random bytes, MAC of <host>.<random>)", async () => {
    const host = encodeHost(HOST);
    const random = base64url(crypto.getRandomValues(new Uint8Array(16)));
    const mac = base64url((await hmacBytes(SECRET, `${host}.${random}`)).slice(0, 16));
    expect(await verifySid(SECRET, `${host}.${random}.${mac}`)).toBe(HOST);
    expect(await verifySid(OTHER, `${host}.${random}.${mac}`)).toBeNull();
    expect(await verifySid(SECRET, `${host}.${flip(random, 3)}.${mac}`)).toBeNull();
  });
});

describe("mintSocketId / verifySocketId / hostOfSocketId", () => {
  it("verifies its own socket ids and returns the host", async () => {
    const id = await mintSocketId(SECRET, HOST);
    expect(id.split(".")[1]).toHaveLength(20);
    expect(hostOfSocketId(id)).toBe(HOST);
    expect(await verifySocketId(SECRET, id)).toBe(HOST);
  });

  it("refuses a socket id tagged with another secret", async () => {
    expect(await verifySocketId(OTHER, await mintSocketId(SECRET, HOST))).toBeNull();
  });

  it("refuses forged tags and moved hosts, though they look like socket ids", async () => {
    const id = await mintSocketId(SECRET, HOST);
    const [, tail] = id.split(".");
    const forgedTag = `${encodeHost(HOST)}.${flip(tail, 19)}`;
    expect(hostOfSocketId(forgedTag)).toBe(HOST);
    expect(await verifySocketId(SECRET, forgedTag)).toBeNull();

    const forgedRandom = `${encodeHost(HOST)}.${flip(tail, 0)}`;
    expect(await verifySocketId(SECRET, forgedRandom)).toBeNull();

    const madeUpHost = `${encodeHost("evil:9")}.${tail}`;
    expect(hostOfSocketId(madeUpHost)).toBe("evil:9");
    expect(await verifySocketId(SECRET, madeUpHost)).toBeNull();
  });

  it("treats ordinary room names as no socket id", async () => {
    for (const room of ["lobby", "user:alice", "a.b", "conversation:1.2", `${encodeHost(HOST)}.${"A".repeat(19)}`]) {
      expect(hostOfSocketId(room)).toBeNull();
      expect(await verifySocketId(SECRET, room)).toBeNull();
    }
  });

  it("names no host for a first part that does not decode to a host name", async () => {
    expect(hostOfSocketId(`${encodeHost("Not A Host")}.${"A".repeat(20)}`)).toBeNull();
    expect(hostOfSocketId(`${encodeHost("fra:12345")}.${"A".repeat(20)}`)).toBeNull();
    expect(hostOfSocketId(`a+b.${"A".repeat(20)}`)).toBeNull();
    expect(hostOfSocketId(`${"A".repeat(65)}.${"A".repeat(20)}`)).toBeNull();
  });
});

describe("mintPid / verifyPid (connection-state recovery)", () => {
  it("names the socket and its home host; forged, altered or foreign pids are refused", async () => {
    const socketId = await mintSocketId("secret-secret-secret", "fra:3");
    const pid = await mintPid("secret-secret-secret", socketId);
    expect(pid.startsWith(`${socketId}.`)).toBe(true);
    expect(await verifyPid("secret-secret-secret", pid)).toEqual({ socketId, home: "fra:3" });
    expect(await verifyPid("another-secret-secret", pid)).toBeNull();
    expect(await verifyPid("secret-secret-secret", `${pid.slice(0, -1)}${pid.endsWith("A") ? "B" : "A"}`)).toBeNull();
    expect(await verifyPid("secret-secret-secret", `${socketId}.`)).toBeNull();
    expect(await verifyPid("secret-secret-secret", socketId)).toBeNull();
    for (const bad of [undefined, 42, {}, "x".repeat(500)]) expect(await verifyPid("secret-secret-secret", bad)).toBeNull();
  });
});
