/**
 * The one JSON error envelope of every HTTP error edgeio answers, except the Engine.IO
 * endpoint's (whose `{"code":N,"message"}` replies are Socket.IO's, byte for byte):
 *
 *   { "error": { "code": "<stable snake_case code>", "message": "<for humans>", "issues"?: [...] } }
 *
 * `issues` lists what was wrong with the input or configuration, one entry per field.
 */
export interface ErrorBody {
  error: { code: string; message: string; issues?: unknown[] };
}

export function errorBody(code: string, message: string, issues?: unknown[]): ErrorBody {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

export function errorResponse(status: number, code: string, message: string, issues?: unknown[], headers?: HeadersInit): Response {
  return Response.json(errorBody(code, message, issues), { status, headers });
}
