/**
 * Entry point for signed webhooks (issue 4 implements delivery). Presence edges and client
 * events call `queueWebhook`; delivery is at-least-once, retried by alarm, with an idempotency id.
 */
export type WebhookEventType =
  | "room.occupied"
  | "room.vacated"
  | "member.added"
  | "member.removed"
  | "user.online"
  | "user.offline"
  | "client.event";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function queueWebhook(_env: any, _type: WebhookEventType, _data: Record<string, unknown>): Promise<void> {
  // Placeholder until the webhook delivery module lands in this same change.
}
