import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import { ApiError } from "./error-codes";

/** RFC 6750's token syntax, which hono's bearerAuth accepts: a configured token outside it could never be presented. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

const invalid = () => new ApiError("auth.invalid", "Send the API token as `Authorization: Bearer <API_TOKEN>`.");
const refuse = (): never => {
  throw invalid();
};

/** The configured token, or the refusal that closes the API while there is none (or none that a client could send). */
function configured(token: unknown): string {
  if (typeof token !== "string" || token.length === 0) {
    throw new ApiError("auth.not_configured", "The API is closed: no API_TOKEN is configured. Set one with `wrangler secret put API_TOKEN` (or `--var API_TOKEN:<token>` for wrangler dev).");
  }
  if (!BEARER_TOKEN.test(token)) {
    throw new ApiError(
      "auth.not_configured",
      "The API is closed: API_TOKEN holds characters a bearer token cannot carry. Use letters, digits and - . _ ~ + / (with = only at the end), e.g. `openssl rand -hex 32`, set with `wrangler secret put API_TOKEN`.",
    );
  }
  return token;
}

/**
 * Every /api request needs the token: hono's bearerAuth compares it in
 * constant time, and every way of failing (no header, another scheme, a
 * malformed or wrong token) is the same 401 `auth.invalid`. With no token
 * configured the API fails closed with `auth.not_configured`, whatever the
 * request sends. `token` reads the configured token from the request's env.
 *
 * The one exception: GET (and HEAD) of the paths in `queryTokenPaths` also
 * take the token as `?token=`, because browsers cannot set headers on an
 * EventSource or a WebSocket, which is how the dashboard opens the event
 * stream and the inspection socket. A header, when sent, is what counts.
 */
export function requireToken(token: (env: unknown) => unknown, queryTokenPaths: readonly RegExp[]): MiddlewareHandler {
  const header = bearerAuth({
    verifyToken: (given, c) => timingSafeEqual(configured(token(c.env)), given),
    // Thrown rather than answered, so that onError gives them the one shape and status of every refusal.
    noAuthenticationHeader: { message: refuse },
    invalidAuthenticationHeader: { message: refuse },
    invalidToken: { message: refuse },
  });
  return async (c, next) => {
    const expected = configured(token(c.env));
    const path = new URL(c.req.url).pathname;
    const inQuery = (c.req.method === "GET" || c.req.method === "HEAD") && !c.req.header("authorization") && queryTokenPaths.some((route) => route.test(path));
    const given = inQuery ? c.req.query("token") : undefined;
    if (given === undefined) return header(c, next);
    if (!(await timingSafeEqual(expected, given))) throw invalid();
    await next();
  };
}
