/** The shape of every webhook event edgeio sends (the JSON body of each POST). */
export type WebhookEventType =
  | "room.occupied"
  | "room.vacated"
  | "member.added"
  | "member.removed"
  | "user.online"
  | "user.offline"
  | "client.event";

export interface WebhookEvent {
  /** Unique per event, the same on every retry: receivers drop duplicates by it. */
  id: string;
  type: WebhookEventType;
  /** ISO 8601, when the event happened (not when this attempt was made). */
  createdAt: string;
  data: Record<string, unknown>;
}

export function newWebhookEvent(type: WebhookEventType, data: Record<string, unknown>): WebhookEvent {
  return { id: `evt_${crypto.randomUUID().replaceAll("-", "")}`, type, createdAt: new Date().toISOString(), data };
}

/** Events about the same room or user go to the same WebhookDO, so they leave in order. */
export function shardKey(event: WebhookEvent): string {
  const { room, nsp, namespace, user, userId, socketId } = event.data as Record<string, unknown>;
  if (typeof room === "string") return `room:${String(nsp ?? namespace ?? "/")}:${room}`;
  const id = (user as { id?: unknown } | undefined)?.id ?? userId;
  if (typeof id === "string" || typeof id === "number") return `user:${id}`;
  if (typeof socketId === "string") return `socket:${socketId}`;
  return event.id;
}
