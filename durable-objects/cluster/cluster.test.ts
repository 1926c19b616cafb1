import { describe, expect, it } from "vitest";
import { mintSocketId } from "../../protocol/ids";
import type { EdgeioBindings } from "../bindings";
import type { HostOp } from "../socketio/types";
import { clusterOf, eventOp } from "./cluster";
import { HostStubs } from "./host-stubs";

/** A cluster whose remote hosts record the ops they get. */
function recording() {
  const got: Array<{ host: string; op: HostOp }> = [];
  const stubs = new HostStubs((host) => ({
    apply: async (op) => {
      got.push({ host, op: structuredClone(op) });
      return { matched: 0 };
    },
  }));
  return { cluster: clusterOf({ ENVIRONMENT: "test" } as unknown as EdgeioBindings, async () => [], stubs), got };
}

describe("cluster applyOn and socket ids (recovery forwards)", () => {
  it("lets the local host claim an op right before it applies it, and marks ops sent to the homes of the ids they name", async () => {
    const { cluster, got } = recording();
    const id = await mintSocketId("secret", "local:1");
    const steps: string[] = [];
    const local = {
      name: "local:2",
      claim: (op: HostOp) => {
        steps.push("claim");
        op.reached = [id];
      },
      apply: async (op: HostOp) => {
        steps.push(`apply:${op.reached?.join()}`);
        return { matched: 1 };
      },
    };
    await cluster.applyOn(["local:1", "local:2"], eventOp({ nsp: "/", rooms: [id], except: [] }, "e"), { local }).results;
    expect(steps).toEqual(["claim", `apply:${id}`]);
    // The home gets the claim and the mark.
    expect(got).toMatchObject([{ host: "local:1", op: { reached: [id], viaHomes: true } }]);

    // Not to the id's home: no mark. The local host not among the hosts: no claim.
    steps.length = 0;
    got.length = 0;
    await cluster.applyOn(["local:3"], eventOp({ nsp: "/", rooms: [id, "room"], except: [] }, "e"), { local }).results;
    expect(steps).toEqual([]);
    expect(got).toHaveLength(1);
    expect(got[0].op).not.toHaveProperty("viaHomes");
    expect(got[0].op).not.toHaveProperty("reached");
  });
});
