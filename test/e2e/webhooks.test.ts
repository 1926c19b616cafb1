/**
 * Signed webhooks against the real service: a local Node HTTP receiver gets client events
 * (and presence edges) signed with HMAC-SHA256, retried by the WebhookDO's alarm until it
 * answers 2xx, with an idempotency id that lets it drop duplicates; a client ack can be
 * answered by the webhook's JSON response.
 */
import { EventEmitter } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../emitter/src/index";
import { connect } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const SECRET = "whsec-e2e-secret-0123456789";
const API_KEY = "webhook-test-api-key-0123";

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; createdAt: string; data: Record<string, any> };
  /** What the receiver answered. */
  status: number;
}

type Policy = (delivery: Omit<Delivery, "status">, previous: Delivery[]) => { status: number; body?: unknown };

let receiver: Server;
let service: RunningService;
let socket: Socket;
const deliveries: Delivery[] = [];
const arrivals = new EventEmitter();
/** Decides each answer; by default 200 {"received":true}. */
let policy: Policy = () => ({ status: 200, body: { received: true } });

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const incoming = { headers: req.headers, raw, body: JSON.parse(raw) };
      const previous = deliveries.filter((d) => d.body.id === incoming.body.id);
      const answer = policy(incoming, previous);
      const delivery = { ...incoming, status: answer.status };
      deliveries.push(delivery);
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(answer.body ?? {}));
      arrivals.emit("delivery", delivery);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  service = await startService({
    vars: {
      API_KEYS: API_KEY,
      WEBHOOK_URLS: `http://127.0.0.1:${port}/hooks/edgeio`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_CLIENT_EVENTS: "chat:report,order:place,flaky:event,dup:event",
      WEBHOOK_RETRY_BASE_MS: 100,
      WEBHOOK_RETRY_MAX_MS: 1000,
      PRESENCE_GRACE_MS: 0,
    },
  });
  socket = await connect(service.url, { transports: ["websocket"] });
});

afterAll(async () => {
  socket?.close();
  await service?.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

/** Resolves with the first delivery (already received or future) that matches. */
function waitFor(match: (d: Delivery) => boolean, timeoutMs = 20_000): Promise<Delivery> {
  const found = deliveries.find(match);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      arrivals.off("delivery", listener);
      reject(
        new Error(
          `no matching webhook within ${timeoutMs}ms; got ${JSON.stringify(deliveries.map((d) => [d.body.type, d.body.data.event, d.status]))}`,
        ),
      );
    }, timeoutMs);
    const listener = (delivery: Delivery) => {
      if (!match(delivery)) return;
      clearTimeout(timer);
      arrivals.off("delivery", listener);
      resolve(delivery);
    };
    arrivals.on("delivery", listener);
  });
}

const ofEvent = (event: string) => (d: Delivery) => d.body.type === "client.event" && d.body.data.event === event;

it("POSTs a configured client event with a valid signature, event id and payload", async () => {
  socket.emit("chat:report", { messageId: 9, reason: "spam" }, Buffer.from([7, 8, 9]));
  const delivery = await waitFor(ofEvent("chat:report"));

  expect(await verifyWebhookSignature(SECRET, delivery.headers["x-edgeio-signature"] as string, delivery.raw)).toBe(true);
  expect(delivery.headers["x-edgeio-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  expect(delivery.headers["content-type"]).toBe("application/json");
  expect(delivery.headers["x-edgeio-event-id"]).toBe(delivery.body.id);
  expect(delivery.headers["x-edgeio-event-type"]).toBe("client.event");
  expect(delivery.headers["x-edgeio-delivery-attempt"]).toBe("1");
  expect(delivery.body).toEqual({
    id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
    type: "client.event",
    createdAt: expect.any(String),
    data: {
      namespace: "/",
      event: "chat:report",
      args: [{ messageId: 9, reason: "spam" }, { _binary: Buffer.from([7, 8, 9]).toString("base64") }],
      socketId: socket.id,
      userId: null,
      rooms: [socket.id],
    },
  });
});

it("retries with backoff after the receiver fails twice, and the event arrives on the third attempt", async () => {
  policy = (incoming, previous) =>
    incoming.body.data.event === "flaky:event" && previous.length < 2 ? { status: 500, body: { error: "down" } } : { status: 200 };
  socket.emit("flaky:event", { n: 1 });
  const delivered = await waitFor((d) => ofEvent("flaky:event")(d) && d.status === 200);

  const attempts = deliveries.filter((d) => d.body.id === delivered.body.id);
  expect(attempts.map((d) => d.status)).toEqual([500, 500, 200]);
  expect(attempts.map((d) => d.headers["x-edgeio-delivery-attempt"])).toEqual(["1", "2", "3"]);
  expect(new Set(attempts.map((d) => d.raw)).size).toBe(1); // the same body every time
  for (const attempt of attempts) {
    expect(await verifyWebhookSignature(SECRET, attempt.headers["x-edgeio-signature"] as string, attempt.raw)).toBe(true);
  }

  // The bounded delivery log tells the same story.
  const response = await fetch(`${service.url}/v1/webhooks/deliveries?limit=50`, { headers: { Authorization: `Bearer ${API_KEY}` } });
  const log = (await response.json()) as {
    deliveries: Array<{ eventId: string; attempt: number; status: number; outcome: string }>;
    pending: number;
  };
  const entries = log.deliveries.filter((entry) => entry.eventId === delivered.body.id).sort((a, b) => a.attempt - b.attempt);
  expect(entries.map((entry) => [entry.attempt, entry.status, entry.outcome])).toEqual([
    [1, 500, "retrying"],
    [2, 500, "retrying"],
    [3, 200, "delivered"],
  ]);
});

it("sends the same idempotency id on a retry, so the receiver drops the duplicate", async () => {
  // A receiver that commits the event, then fails before answering: edgeio must send it again.
  const processed = new Map<string, number>();
  policy = (incoming) => {
    if (incoming.body.data.event !== "dup:event") return { status: 200 };
    const id = incoming.headers["x-edgeio-event-id"] as string;
    if (processed.has(id)) return { status: 200, body: { duplicate: true } };
    processed.set(id, (processed.get(id) ?? 0) + 1);
    return { status: 503 };
  };
  socket.emit("dup:event", { orderId: "o-1" });
  const second = await waitFor((d) => ofEvent("dup:event")(d) && d.status === 200);
  const copies = deliveries.filter((d) => ofEvent("dup:event")(d));
  expect(copies).toHaveLength(2);
  expect(copies[0].headers["x-edgeio-event-id"]).toBe(second.headers["x-edgeio-event-id"]);
  expect([...processed.values()]).toEqual([1]);
});

it("a tampered body, a replayed timestamp or a wrong secret fails verification", async () => {
  const delivery = await waitFor(ofEvent("chat:report"));
  const header = delivery.headers["x-edgeio-signature"] as string;
  expect(await verifyWebhookSignature(SECRET, header, delivery.raw)).toBe(true);
  expect(await verifyWebhookSignature(SECRET, header, delivery.raw.replace('"spam"', '"ham"'))).toBe(false);
  expect(await verifyWebhookSignature(SECRET, header, `${delivery.raw} `)).toBe(false);
  const t = Number(/t=(\d+)/.exec(header)![1]);
  expect(await verifyWebhookSignature(SECRET, header.replace(`t=${t}`, `t=${t + 1}`), delivery.raw)).toBe(false);
  expect(await verifyWebhookSignature("some-other-secret-123", header, delivery.raw)).toBe(false);
});

it("answers the client's ack with the webhook's JSON response", async () => {
  policy = (incoming) =>
    incoming.body.data.event === "order:place"
      ? { status: 201, body: { orderId: `ord_${incoming.body.data.args[0].sku}`, total: 42 } }
      : { status: 200 };
  const answer = await socket.timeout(10_000).emitWithAck("order:place", { sku: "A1", qty: 2 });
  expect(answer).toEqual({ orderId: "ord_A1", total: 42 });
  const delivery = await waitFor(ofEvent("order:place"));
  expect(delivery.body.data.args).toEqual([{ sku: "A1", qty: 2 }]);
});

it("answers the ack with an error when the webhook fails, and still delivers the event later", async () => {
  policy = (incoming, previous) =>
    incoming.body.data.event === "order:place" && incoming.body.data.args[0].sku === "B2" && previous.length === 0
      ? { status: 500 }
      : { status: 200, body: { late: true } };
  const answer = await socket.timeout(10_000).emitWithAck("order:place", { sku: "B2" });
  expect(answer).toEqual({ error: { code: "webhook_failed", status: 500 } });
  const retried = await waitFor((d) => ofEvent("order:place")(d) && d.body.data.args[0].sku === "B2" && d.status === 200);
  expect(retried.headers["x-edgeio-delivery-attempt"]).toBe("2");
});

it("does not forward events that are not configured", async () => {
  policy = () => ({ status: 200 });
  // "echo" is not in WEBHOOK_CLIENT_EVENTS; the configured event sent after it arrives, the echo never does.
  socket.emit("echo", "not for the backend");
  socket.emit("chat:report", { after: "echo" });
  await waitFor((d) => ofEvent("chat:report")(d) && d.body.data.args[0]?.after === "echo");
  expect(deliveries.some((d) => d.body.data.event === "echo")).toBe(false);
});

it("sends presence edges: room.occupied and member.added on the first join, member.removed and room.vacated on the last leave", async () => {
  policy = () => ({ status: 200 });
  const member = await connect(service.url, { transports: ["polling"] });
  try {
    // The echo app lets a test set socket.data.user, which presence reads.
    await member.timeout(5000).emitWithAck("set-data", "user", { id: "u-42", name: "Ann" });
    await member.timeout(5000).emitWithAck("join", "conversation:77");
    const inRoom = (type: string) => (d: Delivery) => d.body.type === type && d.body.data.room === "conversation:77";
    const occupied = await waitFor(inRoom("room.occupied"));
    const added = await waitFor(inRoom("member.added"));
    expect(added.body.data).toMatchObject({ room: "conversation:77", user: { id: "u-42", name: "Ann" } });
    expect(await verifyWebhookSignature(SECRET, occupied.headers["x-edgeio-signature"] as string, occupied.raw)).toBe(true);

    await member.timeout(5000).emitWithAck("leave", "conversation:77");
    const removed = await waitFor(inRoom("member.removed"));
    expect(removed.body.data).toMatchObject({ user: { id: "u-42" } });
    await waitFor(inRoom("room.vacated"));
    // Each edge once.
    for (const type of ["room.occupied", "member.added", "member.removed", "room.vacated"]) {
      expect(new Set(deliveries.filter(inRoom(type)).map((d) => d.body.id)).size).toBe(1);
    }
  } finally {
    member.close();
  }
});
