import { describe, expect, it } from "vitest";
import type { EdgeioBindings } from "../bindings";
import type { HostOp, HostReply } from "../socketio/types";
import { clusterOf, eventOp } from "./cluster";
import { type HostApplier, HostStubs } from "./host-stubs";
import { Sequence } from "./sequence";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A model of Durable Object RPC: calls on one stub arrive in the order made (E-order), each stub
 * with its own latency, none between stubs. The first stub made to a host is slow: a later call
 * on another stub would overtake what is in flight on it.
 */
function network() {
  const received = new Map<string, number[]>();
  let made = 0;
  let started = 0;
  const make = (host: string): HostApplier => {
    const latency = made++ === 0 ? 30 : 0;
    let chain: Promise<unknown> = Promise.resolve();
    return {
      apply(op: HostOp): Promise<HostReply> {
        started++;
        const arrived = chain.then(() => sleep(latency));
        chain = arrived;
        return arrived.then(() => {
          const seq = op.kind === "emit" ? (op.id ?? "") : "";
          received.set(host, [...(received.get(host) ?? []), Number(seq.split(":")[1])]);
          return { matched: 1 };
        });
      },
    };
  };
  return { received, make, started: () => started };
}

describe("HostStubs", () => {
  it("lets one sender's emits start before earlier ones settled, and each host still gets them in order", async () => {
    const net = network();
    const stubs = new HostStubs(net.make);
    const cluster = clusterOf({ ENVIRONMENT: "test" } as unknown as EdgeioBindings, async () => ["h1", "h2"], stubs);
    const sequence = new Sequence();
    const target = { nsp: "/", rooms: ["r"], except: [] };
    const runs = Array.from({ length: 20 }, (_, n) => {
      const op = eventOp(target, "seq", n);
      op.id = `e:${n}`;
      return sequence.run(() => cluster.apply(op));
    });
    // Pipelined: every call is under way while the first ones are still in flight.
    await sleep(5);
    expect(net.started()).toBe(40);
    await Promise.all(runs);
    const inOrder = Array.from({ length: 20 }, (_, n) => n);
    expect(Object.fromEntries(net.received)).toEqual({ h1: inOrder, h2: inOrder });
    expect(stubs.size).toBe(2);
  });

  it("drops a stub whose call failed: the next call gets a fresh one", async () => {
    let made = 0;
    const stubs = new HostStubs(() => {
      const n = made++;
      return { apply: async () => (n === 0 ? Promise.reject(new Error("broken")) : { matched: 1 }) };
    });
    const op = eventOp({ nsp: "/", rooms: [], except: [] }, "x");
    await expect(stubs.call("h", op)).rejects.toThrow("broken");
    expect(stubs.size).toBe(0);
    await expect(stubs.call("h", op)).resolves.toEqual({ matched: 1 });
    await expect(stubs.call("h", op)).resolves.toEqual({ matched: 1 });
    expect(made).toBe(2);
  });

  it("past its cap, lets an idle stub go for a new host, never one with a call in flight", async () => {
    const answers: Array<(reply: HostReply) => void> = [];
    const made: string[] = [];
    const stubs = new HostStubs((host) => {
      made.push(host);
      return {
        apply: () => (host === "busy" ? new Promise<HostReply>((resolve) => answers.push(resolve)) : Promise.resolve({ matched: 1 })),
      };
    }, 2);
    const op = eventOp({ nsp: "/", rooms: [], except: [] }, "x");
    const busy = stubs.call("busy", op);
    await stubs.call("idle", op);
    await stubs.call("new", op);
    expect(stubs.size).toBe(2);
    // "busy" kept its stub (a call is in flight), "idle" was let go and is made again.
    void stubs.call("busy", op);
    await stubs.call("idle", op);
    expect(made).toEqual(["busy", "idle", "new", "idle"]);
    for (const answer of answers) answer({ matched: 1 });
    await busy;
  });
});
