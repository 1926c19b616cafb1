/**
 * WebhookDO: a durable outbox for signed webhooks. Events are stored in SQLite, one row per
 * (event, URL), and POSTed until the receiver answers 2xx (at-least-once). Retries back off
 * exponentially and are driven by the DO's alarm, so they survive eviction and restarts.
 * Each attempt is recorded in a bounded delivery log.
 */
import { DurableObject } from "cloudflare:workers";
import { readWebhookAnswer } from "./answer";
import { backoff } from "./backoff";
import { webhookConfigFrom, type WebhookConfig } from "./config";
import type { WebhookEvent } from "./event";
import { ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from "./signature";

export type DeliveryOutcome = "delivered" | "retrying" | "failed";

export interface DeliveryLogEntry {
  eventId: string;
  type: string;
  url: string;
  attempt: number;
  /** HTTP status of the receiver's answer; 0 when no answer (network error or timeout). */
  status: number;
  outcome: DeliveryOutcome;
  error: string | null;
  at: string;
}

/** The primary URL's answer to an immediate delivery (used to answer client acks). */
export interface ImmediateResult {
  ok: boolean;
  status: number;
  response: unknown;
}

interface PendingRow {
  event_id: string;
  type: string;
  url: string;
  body: string;
  attempts: number;
  [key: string]: SqlStorageValue;
}

interface AttemptResult {
  ok: boolean;
  status: number;
  text: string;
  error: string | null;
  /** The receiver's answer was refused (too large or too deep); a 2xx still counts as delivered. */
  answerRefused?: boolean;
}

/** Rows attempted per alarm run; the alarm re-arms at once when more are due. */
const BATCH = 25;

export class WebhookDO extends DurableObject {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS pending (
        event_id TEXT NOT NULL,
        url TEXT NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        PRIMARY KEY (event_id, url)
      );
      CREATE INDEX IF NOT EXISTS pending_by_time ON pending (next_at);
      CREATE TABLE IF NOT EXISTS log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        url TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        at INTEGER NOT NULL
      );
    `);
  }

  private get config(): WebhookConfig {
    return webhookConfigFrom(this.env as object);
  }

  /** RPC: stores the event for every configured URL; the alarm delivers it. */
  async enqueue(event: WebhookEvent): Promise<void> {
    this.store(event, Date.now());
    await this.rearm();
  }

  /**
   * RPC: stores the event and attempts it at once. Returns the first URL's answer; any URL
   * that failed stays queued and is retried by the alarm like any other event.
   */
  async deliverNow(event: WebhookEvent): Promise<ImmediateResult> {
    const config = this.config;
    // Leased past the attempt's timeout so the alarm does not send it a second time meanwhile.
    this.store(event, Date.now() + config.timeoutMs + 1_000);
    await this.rearm();
    const rows = this.sql
      .exec<PendingRow>("SELECT event_id, type, url, body, attempts FROM pending WHERE event_id = ?", event.id)
      .toArray();
    const results = await Promise.all(rows.map((row) => this.attemptAndRecord(row, config)));
    await this.rearm();
    const primary = results[rows.findIndex((row) => row.url === config.urls[0])] ?? results[0];
    if (!primary) return { ok: false, status: 0, response: null };
    // An answer that was refused cannot answer a client's ack.
    if (primary.answerRefused) return { ok: false, status: primary.status, response: null };
    return { ok: primary.ok, status: primary.status, response: parseJson(primary.text) };
  }

  /** RPC: the most recent delivery attempts, newest first. */
  deliveries(limit = 100): DeliveryLogEntry[] {
    return this.sql
      .exec<{
        event_id: string;
        type: string;
        url: string;
        attempt: number;
        status: number;
        outcome: DeliveryOutcome;
        error: string | null;
        at: number;
      }>("SELECT event_id, type, url, attempt, status, outcome, error, at FROM log ORDER BY seq DESC LIMIT ?", limit)
      .toArray()
      .map((row) => ({
        eventId: row.event_id,
        type: row.type,
        url: row.url,
        attempt: row.attempt,
        status: row.status,
        outcome: row.outcome,
        error: row.error,
        at: new Date(row.at).toISOString(),
      }));
  }

  /** RPC: events still waiting for a successful delivery (one per event and URL). */
  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n;
  }

  async alarm(): Promise<void> {
    const config = this.config;
    const now = Date.now();
    const due = this.sql
      .exec<PendingRow>("SELECT event_id, type, url, body, attempts FROM pending WHERE next_at <= ? ORDER BY next_at LIMIT ?", now, BATCH)
      .toArray();
    // Lease the batch: a crash mid-attempt leaves the rows due again once the lease ends.
    for (const row of due) {
      this.sql.exec("UPDATE pending SET next_at = ? WHERE event_id = ? AND url = ?", now + config.timeoutMs + 1_000, row.event_id, row.url);
    }
    await this.rearm();
    await Promise.all(due.map((row) => this.attemptAndRecord(row, config)));
    await this.rearm();
  }

  private store(event: WebhookEvent, nextAt: number): void {
    const body = JSON.stringify(event);
    for (const url of this.config.urls) {
      this.sql.exec(
        "INSERT OR IGNORE INTO pending (event_id, url, type, body, attempts, next_at) VALUES (?, ?, ?, ?, 0, ?)",
        event.id,
        url,
        event.type,
        body,
        nextAt,
      );
    }
  }

  private async attemptAndRecord(row: PendingRow, config: WebhookConfig): Promise<AttemptResult> {
    const attempt = row.attempts + 1;
    const result = await this.post(row, attempt, config);
    let outcome: DeliveryOutcome;
    if (result.ok) {
      outcome = "delivered";
      this.sql.exec("DELETE FROM pending WHERE event_id = ? AND url = ?", row.event_id, row.url);
    } else if (attempt >= config.maxAttempts) {
      outcome = "failed";
      this.sql.exec("DELETE FROM pending WHERE event_id = ? AND url = ?", row.event_id, row.url);
    } else {
      outcome = "retrying";
      this.sql.exec(
        "UPDATE pending SET attempts = ?, next_at = ? WHERE event_id = ? AND url = ?",
        attempt,
        Date.now() + backoff(attempt, config),
        row.event_id,
        row.url,
      );
    }
    this.sql.exec(
      "INSERT INTO log (event_id, type, url, attempt, status, outcome, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      row.event_id,
      row.type,
      row.url,
      attempt,
      result.status,
      outcome,
      result.error,
      Date.now(),
    );
    this.sql.exec("DELETE FROM log WHERE seq <= (SELECT MAX(seq) FROM log) - ?", config.logSize);
    if (outcome === "failed") console.error(`edgeio: webhook ${row.event_id} to ${row.url} failed after ${attempt} attempts`);
    return result;
  }

  private async post(row: PendingRow, attempt: number, config: WebhookConfig): Promise<AttemptResult> {
    if (!config.secret) return { ok: false, status: 0, text: "", error: "WEBHOOK_SECRET is not configured" };
    try {
      const response = await fetch(row.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "edgeio-webhooks/1",
          [SIGNATURE_HEADER]: await signatureHeader(config.secret, row.body),
          [EVENT_ID_HEADER]: row.event_id,
          [EVENT_TYPE_HEADER]: row.type,
          [ATTEMPT_HEADER]: String(attempt),
        },
        body: row.body,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      const answer = await readWebhookAnswer(response);
      if (!answer.ok) {
        // Delivered (or not) all the same: the status decides retries; only the answer is dropped.
        return { ok: response.ok, status: response.status, text: "", error: answer.error, answerRefused: true };
      }
      return response.ok
        ? { ok: true, status: response.status, text: answer.text, error: null }
        : { ok: false, status: response.status, text: answer.text, error: `receiver answered ${response.status}` };
    } catch (error) {
      return { ok: false, status: 0, text: "", error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** One alarm for the whole outbox: at the earliest due row, or none when it is empty. */
  private async rearm(): Promise<void> {
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM pending").one().at;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
