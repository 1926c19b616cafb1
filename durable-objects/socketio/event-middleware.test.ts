import { describe, expect, it, vi } from "vitest";
import { CatchAllListeners } from "./catch-all";
import { type EventMiddleware, type EventPacket, runEventMiddlewares } from "./event-middleware";

describe("socket.use middlewares (Socket.IO's Socket#run)", () => {
  it("run in order over the same packet, which they may change", async () => {
    const order: string[] = [];
    const packet: EventPacket = ["ev", 1];
    const middlewares: EventMiddleware[] = [
      (p, next) => {
        order.push("a");
        p[1] = 2;
        next();
      },
      async (p, next) => {
        order.push(`b:${p[1]}`);
        next();
      },
    ];
    expect(await runEventMiddlewares(middlewares, packet)).toBeUndefined();
    expect(order).toEqual(["a", "b:2"]);
    expect(packet).toEqual(["ev", 2]);
  });

  it("the first next(err) stops the chain and is returned; a throw or a rejection counts as next(err)", async () => {
    const after = vi.fn();
    const refuse: EventMiddleware = (_p, next) => next(new Error("unauthorized event"));
    expect((await runEventMiddlewares([refuse, after], ["ev"]))?.message).toBe("unauthorized event");
    expect(after).not.toHaveBeenCalled();
    const throws: EventMiddleware = () => {
      throw new Error("thrown");
    };
    expect((await runEventMiddlewares([throws], ["ev"]))?.message).toBe("thrown");
    const rejects: EventMiddleware = async () => {
      throw new Error("rejected");
    };
    expect((await runEventMiddlewares([rejects], ["ev"]))?.message).toBe("rejected");
  });
});

describe("catch-all listeners (onAny / prependAny / offAny)", () => {
  it("keeps order, prepends, removes one or all, and survives a listener that throws", () => {
    const list = new CatchAllListeners();
    const seen: string[] = [];
    const a = (event: string) => seen.push(`a:${event}`);
    const b = (event: string, ...args: unknown[]) => seen.push(`b:${event}:${args.join(",")}`);
    list.append(a);
    list.prepend(b);
    list.append(() => {
      throw new Error("listener failure");
    });
    vi.spyOn(console, "error").mockImplementation(() => {});
    list.notify("ev", [1, 2], "s1");
    expect(seen).toEqual(["b:ev:1,2", "a:ev"]);
    list.remove(b);
    expect(list.all()).toHaveLength(2);
    expect(list.all()[0]).toBe(a);
    list.remove();
    expect(list.all()).toEqual([]);
  });
});
