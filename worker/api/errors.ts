/** The HTTP API's error codes and their statuses, in the service-wide error envelope. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorBody, type ErrorBody } from "../../protocol/http-errors";

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

/** The service-wide envelope (protocol/http-errors.ts) with the API's codes. */
export type ApiErrorBody = ErrorBody & { error: { code: ErrorCode } };

export function apiError(
  c: Context,
  code: ErrorCode,
  message: string,
  extra: { issues?: unknown[]; headers?: Record<string, string> } = {},
) {
  return c.json(errorBody(code, message, extra.issues), ERROR_CODES[code], extra.headers);
}
