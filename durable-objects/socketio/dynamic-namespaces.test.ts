import { describe, expect, it, vi } from "vitest";
import { type NamespaceMatcher, parentSpecOf, runMatchers } from "./dynamic-namespaces";
import { Server } from "./server";
import type { HostRuntime } from "./types";

const runtime = {} as HostRuntime;

describe("runMatchers (Socket.IO's _checkNamespace)", () => {
  it("asks parents in order; a refusal, an error or a throw passes to the next one", async () => {
    const asked: number[] = [];
    const answer =
      (index: number, error: Error | null, allow: boolean): NamespaceMatcher =>
      (_name, _auth, next) => {
        asked.push(index);
        setTimeout(() => next(error, allow), 1);
      };
    const matchers: NamespaceMatcher[] = [
      answer(0, null, false),
      answer(1, new Error("no"), true),
      () => {
        asked.push(2);
        throw new Error("broken matcher");
      },
      answer(3, null, true),
      answer(4, null, true),
    ];
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await runMatchers(matchers, "/x", {})).toBe(3);
    expect(asked).toEqual([0, 1, 2, 3]);
    expect(await runMatchers(matchers.slice(0, 3), "/x", {})).toBeUndefined();
  });

  it("hands the CONNECT's auth to a function matcher", async () => {
    const matcher: NamespaceMatcher = (name, auth, next) => next(null, auth.org === name.slice(1));
    expect(await runMatchers([matcher], "/acme", { org: "acme" })).toBe(0);
    expect(await runMatchers([matcher], "/acme", { org: "other" })).toBeUndefined();
  });

  it("refuses stateful regular expressions, as Socket.IO", () => {
    expect(() => parentSpecOf(/^\/a/g)).toThrow("stateful regular expressions are not supported");
    expect(() => parentSpecOf(/^\/a/y)).toThrow("stateful regular expressions are not supported");
    expect(parentSpecOf(/^\/a/).regex).toBeDefined();
  });
});

describe("Server: parents and children", () => {
  it("creates a child on a matching CONNECT with the parent's middlewares and listeners; others are refused", async () => {
    const io = new Server(runtime);
    const middleware = () => {};
    const listener = () => {};
    const parent = io.of(/^\/dyn-\d+$/).use(middleware);
    parent.on("connection", listener);
    expect(await io.checkNamespace("/dyn-x", {})).toBeUndefined();
    const child = await io.checkNamespace("/dyn-1", {});
    expect(child?.name).toBe("/dyn-1");
    expect(child?.middlewares).toEqual([middleware]);
    expect(child?.connectionListeners).toEqual([listener]);
    expect(child?.parent).toBe(parent);
    expect(io.namespace("/dyn-1")).toBe(child);
    // A second CONNECT finds the same child.
    expect(await io.checkNamespace("/dyn-1", {})).toBe(child);
    expect([...parent.children]).toEqual([child]);
  });

  it("io.of(name) of a name a regex parent matches attaches it to that parent", () => {
    const io = new Server(runtime);
    const parent = io.of(/^\/team-/);
    const child = io.of("team-a");
    expect(child.name).toBe("/team-a");
    expect(child.parent).toBe(parent);
    expect(io.of("/other").parent).toBeUndefined();
  });

  it("restoreChild rebuilds a child from its parent's index without asking the matcher", () => {
    const io = new Server(runtime);
    let asked = 0;
    io.of(/^\/r-/);
    io.of((_name, _auth, next) => {
      asked++;
      next(null, false);
    });
    expect(io.restoreChild("/fn-child", 1)?.parent).toBeDefined();
    expect(asked).toBe(0);
    expect(io.restoreChild("/r-1", 0)?.name).toBe("/r-1");
    // An index the app no longer declares, or a name its regex does not match: nothing.
    expect(io.restoreChild("/gone", 7)).toBeUndefined();
    expect(io.restoreChild("/not-r", 0)).toBeUndefined();
  });

  it("cleanupEmptyChildNamespaces forgets a child once its last socket left, and only then", async () => {
    for (const cleanup of [true, false]) {
      const io = new Server(runtime);
      io.configure({ cleanupEmptyChildNamespaces: cleanup });
      const parent = io.of(/^\/c-/);
      const child = (await io.checkNamespace("/c-1", {}))!;
      child.sockets.set("a", {} as never);
      io.socketLeft(child);
      expect(io.namespace("/c-1")).toBe(child);
      child.sockets.delete("a");
      io.socketLeft(child);
      expect(io.namespace("/c-1")).toBe(cleanup ? undefined : child);
      expect(parent.children.size).toBe(cleanup ? 0 : 1);
    }
  });

  it("a parent's emit reaches its children; targeting the parent itself throws instead of reaching nobody", async () => {
    const emitted: string[] = [];
    const io = new Server({
      fanout: async (op: { target: { nsp: string } }) => void emitted.push(op.target.nsp),
    } as unknown as HostRuntime);
    const parent = io.of(/^\/p-/);
    await io.checkNamespace("/p-1", {});
    await io.checkNamespace("/p-2", {});
    parent.emit("news", 1);
    expect(emitted.sort()).toEqual(["/p-1", "/p-2"]);
    expect(() => parent.to("room")).toThrow("not supported on a parent namespace");
    await expect(async () => parent.socketsJoin("room")).rejects.toThrow("use the child");
  });

  it("a declared namespace is never cleaned up", () => {
    const io = new Server(runtime);
    io.configure({ cleanupEmptyChildNamespaces: true });
    const declared = io.of("/chat");
    io.socketLeft(declared);
    expect(io.namespace("/chat")).toBe(declared);
  });
});
