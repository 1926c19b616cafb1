/** Typed errors: catch `EmitterError` for all of them, or a subclass for one case. */

export class EmitterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * `emit` was called with something that cannot be sent: a non-string event name, an ack
 * callback, a function, BigInt, Symbol or cycle in the arguments. Thrown before any request.
 */
export class InvalidEmitError extends EmitterError {}

/** `emit` was called with a name Socket.IO reserves (connect, disconnect, …). */
export class ReservedEventError extends InvalidEmitError {}

/** No answer from the service after every retry (connection refused, DNS, timeout). */
export class NetworkError extends EmitterError {
  constructor(
    message: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

export interface ApiIssue {
  path: Array<string | number>;
  code: string;
  message: string;
}

/** The service answered with an error status; `code` is the stable code of its JSON body. */
export class ApiError extends EmitterError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly issues: ApiIssue[] = [],
    readonly attempts = 1,
  ) {
    super(message);
  }
}

/** 400: the request was refused as invalid; `issues` lists each problem. */
export class ValidationError extends ApiError {}
/** 401: missing or wrong API key. */
export class AuthenticationError extends ApiError {}
/** 403: the key may not do this (a read-only key). */
export class PermissionError extends ApiError {}
/** 404 */
export class NotFoundError extends ApiError {}
/** 413: the request body is larger than the service accepts. */
export class PayloadTooLargeError extends ApiError {}
/** 429: slow down; `retryAfter` in seconds when the service said. Never retried automatically. */
export class RateLimitError extends ApiError {
  retryAfter: number | null = null;
}
/** 5xx after every retry. */
export class ServerError extends ApiError {}

const BY_STATUS: Record<number, typeof ApiError> = {
  400: ValidationError,
  401: AuthenticationError,
  403: PermissionError,
  404: NotFoundError,
  413: PayloadTooLargeError,
  429: RateLimitError,
};

export function apiErrorFor(status: number, body: unknown, attempts: number, retryAfter: string | null): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : `http_${status}`;
  const message = typeof error?.message === "string" ? error.message : `edgeio answered HTTP ${status}`;
  const issues = Array.isArray(error?.issues) ? (error.issues as ApiIssue[]) : [];
  const Class = status >= 500 ? ServerError : (BY_STATUS[status] ?? ApiError);
  const instance = new Class(`${message} (${status} ${code})`, status, code, issues, attempts);
  if (instance instanceof RateLimitError && retryAfter !== null && Number.isFinite(Number(retryAfter)))
    instance.retryAfter = Number(retryAfter);
  return instance;
}
