/**
 * What every way of authenticating in the default app shares: the user it produces, the
 * schemas of a user id and a display name, and the CONNECT_ERROR a refusal sends.
 */
import { z } from "zod";
import type { MiddlewareError } from "../durable-objects/socketio/server";

export type AuthFailureCode =
  | "token_required"
  | "token_expired"
  | "token_not_yet_valid"
  | "invalid_token"
  | "invalid_claims"
  | "credential_rejected"
  | "credential_too_large"
  | "auth_unavailable";

export interface AuthUser {
  id: string;
  name: string;
  guest?: true;
  [claim: string]: unknown;
}

/** A user id: a non-empty string of at most 256 characters without control characters. */
export const UserId = z
  .string()
  .min(1)
  .max(256)
  .refine((id) => ![...id].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f), "no control characters");

/** A user id as a claim or an answer may carry it: a string, or an integer (many backends number users). */
export const UserIdValue = z.union([UserId, z.number().int().safe().transform(String)]);

export const DisplayName = z.string().trim().min(1).max(100);

/** A refused CONNECT: `{"message":"unauthorized","data":{"code","message"}}` on the client's `connect_error`. */
export function unauthorized(code: AuthFailureCode, message: string): MiddlewareError {
  const error = new Error("unauthorized") as MiddlewareError;
  error.data = { code, message };
  return error;
}
