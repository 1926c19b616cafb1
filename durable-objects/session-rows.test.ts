import { describe, expect, it } from "vitest";
import { fitsAttachment, PENDING_ATTACHMENT_BUDGET, pendingSessionRow } from "./session-rows";

describe("a pending session in its WebSocket's attachment", () => {
  it("fits up to the budget in Latin-1, half of it with wider characters", () => {
    expect(fitsAttachment("x".repeat(PENDING_ATTACHMENT_BUDGET))).toBe(true);
    expect(fitsAttachment("x".repeat(PENDING_ATTACHMENT_BUDGET + 1))).toBe(false);
    expect(fitsAttachment("é".repeat(PENDING_ATTACHMENT_BUDGET))).toBe(true);
    expect(fitsAttachment("€".repeat(PENDING_ATTACHMENT_BUDGET / 2))).toBe(true);
    expect(fitsAttachment("€".repeat(PENDING_ATTACHMENT_BUDGET / 2 + 1))).toBe(false);
  });

  it("the row rebuilt from it is the one the handshake made", () => {
    const row = pendingSessionRow("s1", { createdAt: 5, connectDeadline: 45, handshake: "{}" });
    expect(row).toEqual({
      sid: "s1",
      transport: "websocket",
      upgrading: 0,
      closing: 0,
      created_at: 5,
      connect_deadline: 45,
      last_pong_at: 5,
      handshake: "{}",
    });
  });
});
