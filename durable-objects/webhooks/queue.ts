/**
 * Entry point for signed webhooks. Presence edges and client events call `queueWebhook`;
 * the event is stored by a WebhookDO, which delivers it at least once, retried by alarm,
 * with an idempotency id (see webhook-do.ts). Without WEBHOOK_URLS it does nothing.
 */
import { webhookConfigFrom } from "./config";
import { newWebhookEvent, shardKey, type WebhookEvent, type WebhookEventType } from "./event";
import type { ImmediateResult, WebhookDO } from "./webhook-do";

export type { WebhookEventType } from "./event";

interface WebhookEnv {
  WEBHOOKS?: DurableObjectNamespace<WebhookDO>;
}

/** FNV-1a: a stable, cheap spread of shard keys. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function webhookShardName(index: number): string {
  return `webhooks:${index}`;
}

function stubFor(env: WebhookEnv, event: WebhookEvent, shards: number): DurableObjectStub<WebhookDO> | null {
  if (!env.WEBHOOKS) return null;
  const name = webhookShardName(hash(shardKey(event)) % shards);
  return env.WEBHOOKS.get(env.WEBHOOKS.idFromName(name));
}

/** Every WebhookDO shard (for the delivery log). */
export function webhookShards(env: WebhookEnv): DurableObjectStub<WebhookDO>[] {
  const namespace = env.WEBHOOKS;
  if (!namespace) return [];
  const { shards } = webhookConfigFrom(env);
  return Array.from({ length: shards }, (_, i) => namespace.get(namespace.idFromName(webhookShardName(i))));
}

/** Queues an event for delivery. Never throws: a webhook problem must not break the caller. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function queueWebhook(env: object, type: WebhookEventType, data: Record<string, unknown>): Promise<void> {
  try {
    const config = webhookConfigFrom(env as object);
    if (config.urls.length === 0) return;
    const event = newWebhookEvent(type, data);
    const stub = stubFor(env as WebhookEnv, event, config.shards);
    if (!stub) {
      console.error("edgeio: WEBHOOK_URLS is set but the WEBHOOKS binding is missing; event dropped");
      return;
    }
    await stub.enqueue(event);
  } catch (error) {
    console.error(`edgeio: could not queue webhook ${type}`, error);
  }
}

/**
 * Stores an event and POSTs it at once, answering with the first URL's response (client
 * acks). Failed URLs are retried later like queued events. Null when webhooks are off.
 */
export async function deliverWebhookNow(
  env: object,
  type: WebhookEventType,
  data: Record<string, unknown>,
): Promise<ImmediateResult | null> {
  const config = webhookConfigFrom(env);
  if (config.urls.length === 0) return null;
  const event = newWebhookEvent(type, data);
  const stub = stubFor(env as WebhookEnv, event, config.shards);
  if (!stub) return null;
  return stub.deliverNow(event);
}
