import { describe, expect, it } from "vitest";
import { BodyTooLargeError, readBoundedBytes, readBoundedText } from "./bounded-body";

/** A chunked body (no Content-Length) that records how many chunks were pulled and whether it was cancelled. */
function trackedStream(chunkSize: number, chunks: number) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks) return controller.close();
      state.pulled++;
      controller.enqueue(new Uint8Array(chunkSize).fill(0x61));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { source: { headers: new Headers(), body }, state };
}

describe("readBoundedBytes", () => {
  it("reads a body at exactly the limit", async () => {
    const { source, state } = trackedStream(10, 5);
    const bytes = await readBoundedBytes(source, 50);
    expect(bytes.byteLength).toBe(50);
    expect(state.cancelled).toBe(false);
  });

  it("cancels a chunked body as soon as it passes the limit, without reading the rest", async () => {
    const { source, state } = trackedStream(1024, 100_000);
    await expect(readBoundedBytes(source, 4096)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(state.pulled).toBeLessThanOrEqual(6); // 5 chunks pass the limit, plus at most one queued ahead
    expect(state.cancelled).toBe(true);
  });

  it("refuses a declared Content-Length above the limit before reading anything", async () => {
    const { source, state } = trackedStream(1, 1);
    const headers = new Headers({ "content-length": "1000" });
    await expect(readBoundedBytes({ headers, body: source.body }, 999)).rejects.toThrow("exceeds 999 bytes");
    expect(state.pulled).toBe(0);
    expect(state.cancelled).toBe(true);
  });

  it("counts the bytes that arrive even when Content-Length understates them", async () => {
    const { source } = trackedStream(100, 3);
    const headers = new Headers({ "content-length": "10" });
    await expect(readBoundedBytes({ headers, body: source.body }, 200)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it("reads real Requests and Responses, empty bodies included", async () => {
    expect(await readBoundedText(new Request("http://x/", { method: "POST", body: "héllo" }), 6)).toBe("héllo");
    await expect(readBoundedText(new Request("http://x/", { method: "POST", body: "héllo" }), 5)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(await readBoundedText(new Response(null), 0)).toBe("");
    expect((await readBoundedBytes(new Response(new Uint8Array([1, 2, 3])), 3)).length).toBe(3);
  });

  it("rejects an invalid limit", async () => {
    await expect(readBoundedBytes(new Response("x"), -1)).rejects.toBeInstanceOf(RangeError);
  });
});
