import type { Context } from "hono";
import { DurableMachinesError } from "../../../core/errors";
import { statusOf, type ErrorCode } from "./error-codes";

/** The one shape of every error the API answers. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/**
 * An error as the API answers it: `{ error: { code, message } }` with the
 * status the table gives the code. A 401 says which scheme to use.
 */
export function errorResponse(code: ErrorCode, message: string, headers: Record<string, string> = {}): Response {
  const status = statusOf(code)!;
  const body: ErrorBody = { error: { code, message } };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...(status === 401 ? { "www-authenticate": 'Bearer realm="durable-machines"' } : {}), ...headers },
  });
}

/**
 * Hono's onError: a refusal whose code is in the table is answered with its
 * status, code and message; anything else (a bug, or a code nobody gave a
 * status) is logged with its stack and answered as `internal`, with nothing
 * of the error in the answer.
 */
export function onError(error: Error, c: Context): Response {
  if (error instanceof DurableMachinesError && statusOf(error.code) !== undefined) return errorResponse(error.code as ErrorCode, error.message);
  console.error(`durable-machines API: ${c.req.method} ${new URL(c.req.url).pathname} failed:`, error);
  return errorResponse("internal", "The server failed to answer this request; the error is in the Worker's logs.");
}
