/**
 * Bench-only, run inside workerd: what one Durable Object costs to start (issue 11). A host
 * that has hibernated or been evicted runs its constructor again, and every bench round's
 * connects meet cold objects (the other systems ran meanwhile), so part of a round's CPU per
 * connect is starting them: edgeio's pool of hosts and its namespace directory, the floor's one
 * object. `GET /__bench/restart?binding=B&name=N&n=K&abort=1` runs K cycles on object N of
 * binding B: abort the instance (`ctx.abort`, the next call starts a new one), then one trivial
 * RPC. With `abort=0` the same K RPCs reach the live instance; bench/cold-start.ts takes the
 * difference of the runtime's CPU between the two as the cost of one start.
 */
type Restartable = { ctx?: DurableObjectState };
type AnyClass = { prototype: Record<string, unknown> };

/** Adds the two RPC methods the route calls to each Durable Object class (on its prototype). */
export function addRestartHooks(cls: AnyClass): void {
  cls.prototype.__benchAbort = function (this: Restartable) {
    this.ctx?.abort("bench restart");
  };
  cls.prototype.__benchPing = () => 1;
}

type RestartStub = { __benchAbort(): Promise<void>; __benchPing(): Promise<number> };

/** Runs the cycles (see the header) and answers how many instances were started. */
export async function restartRoute(url: URL, env: Record<string, unknown>): Promise<Response> {
  const binding = env[url.searchParams.get("binding") ?? ""] as DurableObjectNamespace | undefined;
  const name = url.searchParams.get("name");
  const cycles = Math.min(1000, Math.max(1, Number(url.searchParams.get("n") ?? 100) || 1));
  if (!binding || typeof binding.getByName !== "function" || !name) return new Response("binding and name needed", { status: 400 });
  const abort = url.searchParams.get("abort") === "1";
  const stub = () => binding.getByName(name) as unknown as RestartStub;
  for (let i = 0; i < cycles; i++) {
    if (abort)
      await stub()
        .__benchAbort()
        .catch(() => undefined); // the abort rejects the call that made it
    // A stub whose object was aborted is broken: each call gets a fresh one, and the first call
    // after an abort may still see the old instance go.
    for (let attempt = 0; ; attempt++) {
      try {
        await stub().__benchPing();
        break;
      } catch (error) {
        if (attempt >= 3) return new Response(`ping failed: ${(error as Error).message}`, { status: 500 });
      }
    }
  }
  return Response.json({ cycles, abort });
}
