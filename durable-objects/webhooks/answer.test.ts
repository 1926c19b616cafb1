import { describe, expect, it } from "vitest";
import { readWebhookAnswer, WEBHOOK_ANSWER_MAX_BYTES } from "./answer";

describe("readWebhookAnswer", () => {
  it("returns an answer within the limits", async () => {
    expect(await readWebhookAnswer(new Response('{"allow":true}'))).toEqual({ ok: true, text: '{"allow":true}' });
  });

  it("refuses an answer over 64 KiB, chunked, without reading it all", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
      },
    });
    expect(await readWebhookAnswer(new Response(body))).toEqual({ ok: false, error: `answer exceeds ${WEBHOOK_ANSWER_MAX_BYTES} bytes` });
    expect(pulled).toBeLessThan(10);
  });

  it("refuses an answer nested deeper than 32 levels", async () => {
    const deep = "[".repeat(20_000) + "]".repeat(20_000);
    expect(await readWebhookAnswer(new Response(deep))).toEqual({ ok: false, error: "answer nests deeper than 32 levels" });
  });
});
