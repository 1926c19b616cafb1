/**
 * UserDO inside workerd, with real host sockets (raw WebSocket clients of the echo app):
 * emit to a user reaches each connection once, disconnect-all reaches every connection,
 * device edges reach the user's other connections, and a connection its host no longer has
 * expires: by the host's lease renewal (sockets in their user:<id> room), or by the fallback
 * check with the host for connections nobody renews, after which the user goes offline.
 */
import { env } from "cloudflare:test";
import { afterEach, expect, it } from "vitest";
import { userStub, type EdgeioBindings } from "../../durable-objects/bindings";
import type { UserInfo } from "../../durable-objects/user";
import { eventually, RawClient } from "./presence-client";

const bindings = env as unknown as EdgeioBindings;
const open: RawClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

async function register(userId: string, client: RawClient, deviceId: string) {
  await userStub(bindings, userId).addConnection({
    socketId: client.socketId,
    nsp: "/",
    deviceId,
    host: client.host,
    user: { id: userId, name: userId },
  });
}
const info = (userId: string) => userStub(bindings, userId).info() as Promise<UserInfo>;

it("emits to every connection once, tells other devices about device edges, and disconnects all", async () => {
  const tabs = [await RawClient.open(), await RawClient.open(), await RawClient.open()];
  open.push(...tabs);
  await register("kim", tabs[0], "phone");
  await register("kim", tabs[1], "laptop");
  await register("kim", tabs[2], "laptop");
  expect(await info("kim")).toEqual({
    id: "kim",
    name: "kim",
    online: true,
    connections: 3,
    devices: [
      { deviceId: "phone", connections: 1 },
      { deviceId: "laptop", connections: 2 },
    ],
  });
  // The laptop's arrival was announced to the phone only (the laptop knows it is there).
  await eventually(
    () => tabs[0].events.some(([name, p]) => name === "user:device:online" && p.deviceId === "laptop"),
    "device online at the phone",
  );
  expect(tabs[1].events.filter(([name]) => name === "user:device:online")).toEqual([]);

  expect(await userStub(bindings, "kim").emit("notice", { n: 1 })).toBe(3);
  await eventually(() => tabs.every((tab) => tab.events.some(([name]) => name === "notice")), "the notice at every tab");
  await new Promise((r) => setTimeout(r, 300));
  for (const tab of tabs) expect(tab.events.filter(([name]) => name === "notice")).toEqual([["notice", { n: 1 }]]);

  // The phone goes away: after the grace period, the laptop tabs hear the device-offline edge.
  await userStub(bindings, "kim").removeConnection(tabs[0].socketId);
  await eventually(() => tabs[1].events.some(([name, p]) => name === "user:device:offline" && p.deviceId === "phone"), "device offline");
  expect((await info("kim")).online).toBe(true);

  expect(await userStub(bindings, "kim").disconnectAll()).toBe(2);
  for (const tab of tabs.slice(1)) await tab.frame((f) => f === "41");
});

it("expires by lease a connection its host no longer has, then goes offline after the grace period", async () => {
  const real = await RawClient.open();
  open.push(real);
  const phantom = `${real.socketId.split(".")[0]}.CCCCCCCCCCCCCCCCCCCC`;
  await userStub(bindings, "lee").addConnection({
    socketId: phantom,
    nsp: "/",
    deviceId: "ghost-device",
    host: real.host,
    user: { id: "lee", name: "Lee" },
  });
  expect(await info("lee")).toMatchObject({ online: true, connections: 1 });
  // Nobody renews it (the raw client has no data.user): the fallback asks its host after 3 renewals.
  await eventually(async () => (await info("lee")).connections === 0, "the lease to expire the phantom", 15_000);
  await eventually(async () => !(await info("lee")).online, "the user to go offline");
  expect(await info("lee")).toEqual({ id: "lee", name: "Lee", online: false, connections: 0, devices: [] });
}, 20_000);

it("drops, at the host's lease renewal, a connection of the user its host does not hold", async () => {
  // The default app's convention: data.user set, and the socket in its own user:<id> room.
  const real = await RawClient.open();
  open.push(real);
  await real.call("set-data", "user", { id: "mo", name: "Mo" });
  await real.call("join", "user:mo");
  await register("mo", real, "laptop");
  await userStub(bindings, "mo").addConnection({
    socketId: `${real.socketId.split(".")[0]}.DDDDDDDDDDDDDDDDDDDD`,
    nsp: "/",
    deviceId: "ghost-device",
    host: real.host,
    user: { id: "mo", name: "Mo" },
  });
  expect(await info("mo")).toMatchObject({ online: true, connections: 2 });
  await eventually(async () => (await info("mo")).connections === 1, "the renewal to drop the ghost");
  expect(await info("mo")).toEqual({
    id: "mo",
    name: "Mo",
    online: true,
    connections: 1,
    devices: [{ deviceId: "laptop", connections: 1 }],
  });
}, 20_000);
