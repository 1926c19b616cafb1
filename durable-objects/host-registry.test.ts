import { describe, expect, it, vi } from "vitest";
import type { EdgeioBindings } from "./bindings";
import { HOST_REGISTRY_KEY, HostRegistration } from "./host-registry";

/** Bindings whose ROOM namespace records the calls made to each RoomDO, by its name. */
function fakeEnv(addHost: (host: string) => Promise<void> = async () => {}) {
  const calls: Array<{ room: string; method: string; args: unknown[] }> = [];
  const stub = (room: string) => ({
    addHost: (...args: [string]) => {
      calls.push({ room, method: "addHost", args });
      return addHost(args[0]);
    },
    renew: async (...args: unknown[]) => void calls.push({ room, method: "renew", args }),
  });
  const env = { ROOM: { idFromName: (name: string) => name, get: (id: string) => stub(id) } } as unknown as EdgeioBindings;
  return { env, calls };
}

const registryName = JSON.stringify([HOST_REGISTRY_KEY, null]);

describe("HostRegistration", () => {
  it("registers the host on its first socket only, alongside the namespace registration", async () => {
    const { env, calls } = fakeEnv();
    let sockets = 1;
    const registration = new HostRegistration(env, { hostName: "local:2" }, { socketCount: () => sockets });
    let namespaceDone = false;
    await registration.alongside(
      Promise.resolve().then(() => {
        namespaceDone = true;
      }),
    );
    expect(namespaceDone).toBe(true);
    expect(calls).toEqual([{ room: registryName, method: "addHost", args: ["local:2"] }]);
    sockets = 2;
    await registration.alongside(Promise.resolve());
    expect(calls).toHaveLength(1);
  });

  it("never fails a connect when the registry is unreachable (the next renewal registers the host)", async () => {
    const { env } = fakeEnv(async () => {
      throw new Error("registry down");
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const registration = new HostRegistration(env, { hostName: "local:0" }, { socketCount: () => 1 });
    await expect(registration.alongside(Promise.resolve())).resolves.toBeUndefined();
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });

  it("renews with the host's socket count while it has sockets, and not at all without", async () => {
    const { env, calls } = fakeEnv();
    let sockets = 0;
    const registration = new HostRegistration(env, { hostName: "local:1" }, { socketCount: () => sockets });
    await registration.renew(1000);
    expect(calls).toEqual([]);
    sockets = 7;
    await registration.renew(2000);
    expect(calls).toEqual([{ room: registryName, method: "renew", args: ["local:1", { sockets: 7, presence: [], asOf: 2000 }] }]);
  });
});
