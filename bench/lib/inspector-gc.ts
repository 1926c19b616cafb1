/**
 * A full garbage collection in every isolate of a `wrangler dev` runtime, through wrangler's
 * inspector port (Chrome DevTools Protocol `HeapProfiler.collectGarbage`). The idle scenario
 * reads memory after one, for every engine system alike, so that garbage a connect burst left
 * behind (workerd collects it only when the heap next fills) does not count as memory that
 * idle connections hold. (The `ws` client, as the tests use: wrangler's inspector proxy
 * refuses Node's built-in WebSocket.)
 */
import WebSocket from "ws";
import { z } from "zod";

const TargetsSchema = z.array(z.object({ webSocketDebuggerUrl: z.string() }));

export async function collectGarbage(inspectorPort: number, timeoutMs = 30_000): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${inspectorPort}/json/list`, { signal: AbortSignal.timeout(timeoutMs) });
  const targets = TargetsSchema.parse(await response.json());
  for (const target of targets) await collectIn(target.webSocketDebuggerUrl, timeoutMs);
}

function collectIn(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`inspector ${url}: no answer to collectGarbage in ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on("open", () => ws.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" })));
    ws.on("message", (data) => {
      if ((JSON.parse(String(data)) as { id?: number }).id !== 1) return;
      clearTimeout(timer);
      ws.close();
      resolve();
    });
    ws.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`inspector ${url}: ${error.message}`));
    });
  });
}
