/**
 * The host registry POST /v1/shutdown reads (durable-objects/host-registry.ts), inside workerd:
 * a host registers on its first socket, and a host missing from it (a lost registration, or
 * a host that had sockets before the registry existed) is back after its next lease renewal,
 * which rides the heartbeat alarm (the echo app's PRESENCE_LEASE_MS is 1.5 s).
 */
import { env } from "cloudflare:test";
import { afterEach, expect, it } from "vitest";
import { type EdgeioBindings, roomStub } from "../../durable-objects/bindings";
import { HOST_REGISTRY_KEY } from "../../durable-objects/host-registry";
import { eventually, RawClient } from "./presence-client";

const registry = () => roomStub(env as unknown as EdgeioBindings, HOST_REGISTRY_KEY, null);
const open: RawClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

it("lists a host from its first socket, and lists it again after a renewal when it went missing", async () => {
  open.push(await RawClient.open("registry:0"));
  expect(await registry().hosts()).toContain("registry:0");

  await registry().removeHost("registry:0");
  expect(await registry().hosts()).not.toContain("registry:0");
  await eventually(async () => (await registry().hosts()).includes("registry:0"), "the host's renewal to list it again");
}, 30_000);
