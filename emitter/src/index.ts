/** @edgeio/emitter: publish to edgeio from any backend, and verify its webhooks. */
export { Emitter, BroadcastOperator, RESERVED_EVENTS } from "./emitter";
export type { EmitterOptions, OperationResult, RoomArg, UserArg } from "./emitter";
export {
  EmitterError,
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
} from "./errors";
export type { ApiIssue } from "./errors";
export { verifyWebhookSignature, SIGNATURE_HEADER, EVENT_ID_HEADER } from "./webhook";
export type { VerifyOptions } from "./webhook";
