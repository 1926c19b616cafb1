/**
 * A host of the Engine.IO v3 pool (ALLOW_EIO3), addressed directly as the Worker would forward
 * to it: v3 WebSocket pings are answered "3" by the runtime's auto-response — also after
 * `evictDurableObject`, when the new instance must restore the v3 pair from its stored name —
 * and v3 sessions carry on through the eviction on both transports. (The Worker's EIO check is
 * the workerd config's default, ALLOW_EIO3 off: app-routes.test.ts.)
 */
import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HOST_HEADER } from "../../protocol/internal-headers";

const HOST = "eio3-test:0";
const stub = () => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(HOST));
const base = "http://edgeio.test/socket.io/?EIO=3";

function hostFetch(query: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set(HOST_HEADER, HOST);
  return stub().fetch(new Request(`${base}&${query}`, { ...init, headers }));
}

/** Frames of a WebSocket, awaited one at a time. */
function inbox(ws: WebSocket): () => Promise<string> {
  const frames: string[] = [];
  const waiting: Array<(frame: string) => void> = [];
  ws.addEventListener("message", (event) => {
    const frame = String(event.data);
    const next = waiting.shift();
    if (next) next(frame);
    else frames.push(frame);
  });
  return () => (frames.length > 0 ? Promise.resolve(frames.shift()!) : new Promise((resolve) => waiting.push(resolve)));
}

describe("a host of the Engine.IO v3 pool", () => {
  it("answers a WebSocket's 2 with 3 by auto-response, before and after an eviction", async () => {
    const response = await hostFetch("transport=websocket", { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket!;
    ws.accept();
    const next = inbox(ws);
    expect(await next()).toMatch(/^0\{"sid":/);
    expect(await next()).toBe("40"); // "/" connected without a CONNECT from the client
    expect(await next()).toMatch(/^42\["welcome",/);
    const before = await stub().stats();
    ws.send("2");
    expect(await next()).toBe("3");
    // The object never saw that ping: only the runtime did.
    expect((await stub().stats()).wakes).toBe(before.wakes);

    await evictDurableObject(stub());
    const rebuilt = await stub().stats(); // a new instance; the pair stays with the hibernatable sockets
    expect(rebuilt.instanceId).not.toBe(before.instanceId);
    ws.send("2");
    expect(await next()).toBe("3");
    expect((await stub().stats()).wakes).toBe(rebuilt.wakes);
    ws.send('42["echo","after eviction"]');
    expect(await next()).toBe('42["echo","after eviction"]');
    ws.close();
  });

  it("keeps a v3 polling session through an eviction, framing every payload as v3", async () => {
    const open = await (await hostFetch("transport=polling&b64=1")).text();
    const sid = (JSON.parse(open.slice(open.indexOf(":") + 2)) as { sid: string }).sid;
    expect(Number(open.slice(0, open.indexOf(":")))).toBe(open.length - open.indexOf(":") - 1);
    // The implicit "/" connect is async: its "40" and the welcome come on the first GETs.
    let first = "";
    for (let i = 0; i < 5 && !first.includes("welcome"); i++)
      first += await (await hostFetch(`transport=polling&sid=${encodeURIComponent(sid)}`)).text();
    expect(first).toMatch(/2:40\d+:42\["welcome",/);
    await evictDurableObject(stub());
    const post = await hostFetch(`transport=polling&sid=${encodeURIComponent(sid)}`, { method: "POST", body: '1:219:42["echo","polled"]' });
    expect(await post.text()).toBe("ok");
    expect(await (await hostFetch(`transport=polling&sid=${encodeURIComponent(sid)}`)).text()).toBe('1:319:42["echo","polled"]');
  });

  it("reads an XHR2 client's binary POST payload and answers binary in base64 (b4…)", async () => {
    const open = await (await hostFetch("transport=polling")).text();
    const sid = encodeURIComponent((JSON.parse(open.slice(open.indexOf(":") + 2)) as { sid: string }).sid);
    // (The implicit "/" connect is async: "40" and the welcome may come on this GET or the next.)
    await (await hostFetch(`transport=polling&sid=${sid}`)).text();
    // engine.io-parser 2.x binary payload: 0 (text) | length digits | 255 | bytes, then 1 (binary) | … | 4 + bytes
    const text = '451-["echo",{"_placeholder":true,"num":0}]';
    const digits = (n: number) => [...String(n)].map(Number);
    const body = new Uint8Array([0, ...digits(text.length), 255, ...new TextEncoder().encode(text), 1, ...digits(3), 255, 4, 9, 9]);
    const post = await hostFetch(`transport=polling&sid=${sid}`, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/octet-stream" },
    });
    expect(await post.text()).toBe("ok");
    const answer = await (await hostFetch(`transport=polling&sid=${sid}`)).text();
    expect(answer.endsWith(`${text.length}:${text}6:b4CQk=`), answer).toBe(true);
  });

  it("restores the v3 pair in a new instance from its stored name (no socket open across the eviction)", async () => {
    await evictDurableObject(stub());
    const response = await hostFetch("transport=websocket", { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket!;
    ws.accept();
    const next = inbox(ws);
    await next();
    await next();
    await next();
    const before = await stub().stats();
    ws.send("2");
    expect(await next()).toBe("3");
    expect((await stub().stats()).wakes).toBe(before.wakes);
    ws.close();
  });
});
