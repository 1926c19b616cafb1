/** JSON error bodies with a stable `code` for every failure of the HTTP API. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ERROR_CODES = {
  invalid_json: 400,
  invalid_request: 400,
  too_deep: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  internal_error: 500,
  invalid_configuration: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ApiErrorBody {
  error: { code: ErrorCode; message: string; issues?: unknown[] };
}

export function apiError(c: Context, code: ErrorCode, message: string, extra: { issues?: unknown[]; headers?: Record<string, string> } = {}) {
  const body: ApiErrorBody = { error: { code, message, ...(extra.issues ? { issues: extra.issues } : {}) } };
  return c.json(body, ERROR_CODES[code], extra.headers);
}
