/**
 * Who may join which room in the default app. JOIN_POLICY maps room-name patterns to a rule,
 * first match wins: "open" (anyone), "claim" (the token's JOIN_CLAIM claim lists the room or a
 * pattern matching it), "webhook" (JOIN_WEBHOOK_URL answers {"allow": true}), "closed".
 * A room matching no pattern is closed. `user:*` rooms are reserved: the server joins each
 * socket to its own, and nobody can join another user's.
 */
import { z } from "zod";
import { userRoom } from "../durable-objects/socketio/private-rooms";
import { readWebhookAnswer } from "../durable-objects/webhooks/answer";
import { SIGNATURE_HEADER, signatureHeader } from "../durable-objects/webhooks/signature";
import type { AuthUser } from "./auth";
import { matchesPattern, type AppConfig } from "./config";

export const RoomName = z
  .string()
  .min(1, "room names are not empty")
  .max(128, "room names are at most 128 characters")
  .regex(/^[A-Za-z0-9:_\-.@]+$/, "room names use letters, digits and : _ - . @");

export type JoinDecision = { ok: true } | { ok: false; error: "forbidden"; message: string };

export { userRoom };

const WebhookAnswer = z.object({ allow: z.boolean() }).passthrough();

export function createJoinPolicy(config: AppConfig) {
  const forbidden = (message: string): JoinDecision => ({ ok: false, error: "forbidden", message });

  async function askWebhook(nsp: string, room: string, user: AuthUser): Promise<JoinDecision> {
    const hook = config.joinWebhook;
    if (!hook) return forbidden("no join webhook is configured");
    const body = JSON.stringify({
      type: "room.join_request",
      nsp,
      room,
      user: { id: user.id, name: user.name, guest: user.guest === true },
    });
    const headers: Record<string, string> = { "content-type": "application/json" };
    // The format every edgeio webhook uses (verifyWebhookSignature from @edgeio/emitter checks it).
    if (hook.secret) headers[SIGNATURE_HEADER] = await signatureHeader(hook.secret, body);
    try {
      const response = await fetch(hook.url, { method: "POST", headers, body, signal: AbortSignal.timeout(hook.timeoutMs) });
      if (!response.ok) {
        await response.body?.cancel();
        return forbidden(`the join webhook answered ${response.status}`);
      }
      // Bounded and depth-checked: the receiver is outside our control.
      const read = await readWebhookAnswer(response);
      if (!read.ok) return forbidden(`the join webhook's ${read.error}`);
      const answer = WebhookAnswer.safeParse(parseOrNull(read.text));
      if (!answer.success) return forbidden('the join webhook gave no {"allow": boolean} answer');
      return answer.data.allow ? { ok: true } : forbidden("the join webhook refused");
    } catch {
      return forbidden("the join webhook could not be reached");
    }
  }

  return async function mayJoin(nsp: string, room: string, user: AuthUser): Promise<JoinDecision> {
    if (room.startsWith("user:")) {
      return room === userRoom(user.id) ? { ok: true } : forbidden("user rooms are reserved");
    }
    const rule = config.joinPolicy.find((entry) => matchesPattern(entry.pattern, room))?.rule ?? "closed";
    switch (rule) {
      case "open":
        return { ok: true };
      case "closed":
        return forbidden("this room is closed");
      case "claim": {
        const claim = user[config.joinClaim];
        const granted = Array.isArray(claim) && claim.some((entry) => typeof entry === "string" && matchesPattern(entry, room));
        return granted ? { ok: true } : forbidden(`the token's "${config.joinClaim}" claim does not grant this room`);
      }
      case "webhook":
        return askWebhook(nsp, room, user);
    }
  };
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
