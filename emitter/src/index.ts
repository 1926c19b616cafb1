/** @edgeio/emitter: publish to edgeio from any backend, and verify its webhooks. */
export {
  Emitter,
  BroadcastOperator,
  MAX_NAMESPACES,
  RESERVED_EVENTS,
  CONFLATE_MIN_INTERVAL_MS,
  CONFLATE_MAX_INTERVAL_MS,
  MAX_BATCH_EMITS,
} from "./emitter.js";
export type {
  EmitterOptions,
  NamespaceArg,
  OperationResult,
  RoomArg,
  UserArg,
  BatchResult,
  PreparedEmit,
  ShutdownOptions,
  ShutdownResult,
} from "./emitter.js";
export {
  EmitterError,
  InvalidEmitError,
  ReservedEventError,
  NetworkError,
  ApiError,
  ValidationError,
  AuthenticationError,
  PermissionError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  ServerError,
} from "./errors.js";
export type { ApiIssue } from "./errors.js";
export { verifyWebhookSignature, SIGNATURE_HEADER, EVENT_ID_HEADER } from "./webhook.js";
export type { VerifyOptions } from "./webhook.js";
