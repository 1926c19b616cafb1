/**
 * Reading a webhook receiver's answer (delivery webhooks and the default app's join webhook).
 * The receiver is outside our control, so its answer is read bounded while it streams and
 * refused above the JSON depth limit before it is parsed.
 */
import { BodyTooLargeError, readBoundedText } from "../../protocol/bounded-body";
import { assertJsonDepth, JsonTooDeepError, MAX_JSON_DEPTH } from "../../protocol/json-limits";

/** Largest webhook answer read; a larger one is cancelled at this size and not used. */
export const WEBHOOK_ANSWER_MAX_BYTES = 64 * 1024;

export type WebhookAnswerText = { ok: true; text: string } | { ok: false; error: string };

/** The answer's text, or why it was refused (too large, or nested deeper than MAX_JSON_DEPTH). */
export async function readWebhookAnswer(response: Response): Promise<WebhookAnswerText> {
  let text: string;
  try {
    text = await readBoundedText(response, WEBHOOK_ANSWER_MAX_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    return { ok: false, error: `answer exceeds ${WEBHOOK_ANSWER_MAX_BYTES} bytes` };
  }
  try {
    assertJsonDepth(text, MAX_JSON_DEPTH);
  } catch (error) {
    if (!(error instanceof JsonTooDeepError)) throw error;
    return { ok: false, error: `answer nests deeper than ${MAX_JSON_DEPTH} levels` };
  }
  return { ok: true, text };
}
