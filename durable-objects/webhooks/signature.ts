/**
 * Webhook signatures: HMAC-SHA256 over `${timestamp}.${body}` (timestamp in Unix seconds),
 * sent as `X-Edgeio-Signature: t=<timestamp>,v1=<hex>`. Signing the timestamp lets receivers
 * refuse replays; `verifyWebhookSignature` in the emitter package checks it.
 */
import { hmacHex } from "../../protocol/hmac";

export const SIGNATURE_HEADER = "X-Edgeio-Signature";
export const EVENT_ID_HEADER = "X-Edgeio-Event-Id";
export const EVENT_TYPE_HEADER = "X-Edgeio-Event-Type";
export const ATTEMPT_HEADER = "X-Edgeio-Delivery-Attempt";

export async function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${timestamp},v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
}
