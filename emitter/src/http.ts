/**
 * One API call with retries: network errors and 5xx are retried with exponential backoff
 * and jitter; 4xx never are (the same request would fail the same way).
 */
import { apiErrorFor, NetworkError } from "./errors.js";

export interface TransportOptions {
  url: string;
  apiKey: string;
  /** Retries after the first attempt (default 3). */
  retries: number;
  /** First backoff delay in ms (default 200); doubles each retry, with jitter. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Per-attempt timeout in ms (default 10 000). */
  timeoutMs: number;
  fetch: typeof fetch;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function backoffDelay(retry: number, options: Pick<TransportOptions, "retryDelayMs" | "maxRetryDelayMs">): number {
  const delay = Math.min(options.maxRetryDelayMs, options.retryDelayMs * 2 ** retry);
  return delay / 2 + Math.random() * (delay / 2);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: `http_${response.status}`, message: text.slice(0, 200) } };
  }
}

export async function request<T>(options: TransportOptions, method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const url = `${options.url.replace(/\/+$/, "")}${path}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  let attempt = 0;
  for (;;) {
    attempt += 1;
    let response: Response;
    try {
      response = await options.fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${options.apiKey}`,
          Accept: "application/json",
          ...(payload === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: payload,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      if (attempt > options.retries) throw new NetworkError(`edgeio unreachable at ${url} after ${attempt} attempts`, attempt, error);
      await sleep(backoffDelay(attempt - 1, options));
      continue;
    }
    const json = await readJson(response);
    if (response.ok) return json as T;
    if (response.status >= 500 && attempt <= options.retries) {
      await sleep(backoffDelay(attempt - 1, options));
      continue;
    }
    throw apiErrorFor(response.status, json, attempt, response.headers.get("retry-after"));
  }
}
