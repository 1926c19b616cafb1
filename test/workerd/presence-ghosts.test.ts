/**
 * No ghost presence, inside workerd (echo app; sockets take part in presence by setting
 * `data.user`). A host evicted with its WebSockets closed, and a member whose host never
 * reported a leave (dropped by the host's next lease renewal, which does not list it), each
 * produce exactly one `presence:leave`, and presence ends up empty.
 */
import { env, evictDurableObject } from "cloudflare:test";
import { afterEach, expect, it } from "vitest";
import { roomStub, type EdgeioBindings } from "../../durable-objects/bindings";
import type { PresenceSnapshot } from "../../durable-objects/presence/types";
import { eventually, member, type RawClient } from "./presence-client";

const bindings = env as unknown as EdgeioBindings;

const leavesOf = (client: RawClient, userId: string) =>
  client.events.filter(([name, payload]) => name === "presence:leave" && payload.user.id === userId).length;
const joinsOf = (client: RawClient, userId: string) =>
  client.events.filter(([name, payload]) => name === "presence:join" && payload.user.id === userId).length;
/** The RoomDO's presence (typed by hand: the RPC wrapper type of JSON state is too deep for tsc). */
const presenceOf = (room: string) => (roomStub(bindings, "/", room) as unknown as { presence(): Promise<PresenceSnapshot> }).presence();
const usersIn = async (room: string) => (await presenceOf(room)).presence.map((entry) => entry.user.id);

const open: RawClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

it("announces the leave once when a host is evicted with its WebSockets closed", async () => {
  const room = "conversation:evict";
  const observer = await member("observer", room);
  const ghost = await member("ghost", room, observer.host);
  open.push(observer, ghost);
  await eventually(() => joinsOf(observer, "ghost") === 1, "the ghost's presence:join");
  expect(await usersIn(room)).toEqual(["observer", "ghost"]);

  await evictDurableObject(bindings.CONNECTION_HOST.get(bindings.CONNECTION_HOST.idFromName(ghost.host)), { webSockets: "close" });

  await eventually(() => leavesOf(observer, "ghost") === 1, "the ghost's presence:leave");
  await eventually(async () => !(await usersIn(room)).includes("ghost"), "the ghost to leave the presence list");
  // A second lease period and grace pass: still exactly one leave, and the observer stays.
  await new Promise((r) => setTimeout(r, 2_000));
  expect(leavesOf(observer, "ghost")).toBe(1);
  expect(joinsOf(observer, "ghost")).toBe(1);
  expect(await usersIn(room)).toEqual(["observer"]);
}, 20_000);

it("expires by lease a member whose host never reported its leave", async () => {
  const room = "conversation:lease";
  const observer = await member("observer", room);
  open.push(observer);
  // A member registered for a socket its host does not have: what a crash between join and leave leaves behind.
  const phantom = `${observer.socketId.split(".")[0]}.AAAAAAAAAAAAAAAAAAAA`;
  const result = await roomStub(bindings, "/", room).join(
    phantom,
    observer.host,
    { user: { id: "phantom", name: "P" }, deviceId: "d" },
    { nsp: "/", room },
  );
  expect(result.ok).toBe(true);
  await eventually(() => joinsOf(observer, "phantom") === 1, "the phantom's presence:join");

  await eventually(() => leavesOf(observer, "phantom") === 1, "the phantom's presence:leave by lease");
  expect(await usersIn(room)).toEqual(["observer"]);
  await new Promise((r) => setTimeout(r, 2_000));
  expect(leavesOf(observer, "phantom")).toBe(1);
  expect((await presenceOf(room)).counts).toEqual({ connections: 1, users: 1 });
}, 20_000);

it("joins again, at the host's next lease renewal, presence members a room lost", async () => {
  const room = "conversation:rejoin";
  const alice = await member("alice", room);
  open.push(alice);
  expect(await usersIn(room)).toEqual(["alice"]);
  // What a room does to a host that missed its renewals: drops it with its members.
  await roomStub(bindings, "/", room).removeHost(alice.host);
  expect(await usersIn(room)).toEqual([]);
  await eventually(async () => (await usersIn(room)).includes("alice"), "the renewal to join alice again");
  expect((await presenceOf(room)).counts).toEqual({ connections: 1, users: 1 });
}, 20_000);

it("refuses oversize presence state with a clear error", async () => {
  const stub = roomStub(bindings, "/", "conversation:bounds");
  const big = await stub.join(
    "x.BBBBBBBBBBBBBBBBBBBB",
    "local:0",
    { user: { id: "u", name: "U" }, state: "y".repeat(5000) },
    { nsp: "/", room: "conversation:bounds" },
  );
  expect(big).toMatchObject({ ok: false, error: "state_too_large" });
  expect((await presenceOf("conversation:bounds")).counts.connections).toBe(0);
});
