import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import { ApiError } from "./error-codes";

/** RFC 6750's token syntax, which hono's bearerAuth accepts: a configured token outside it could never be presented. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * A token and the routes it opens: the API's (API_TOKEN, every /api route but
 * the Python worker routes) or the Python workers' (PYTHON_WORKER_TOKEN, only
 * those), so that a machine running workers never holds the admin token.
 */
export interface Realm {
  /** The variable the token is configured in, as messages name it. */
  variable: string;
  /** What the token opens, as messages name it: "The API", "The Python worker routes". */
  opens: string;
  /** What to send it as, as messages name it: "the API token". */
  token: string;
  /** A token this one must differ from: a worker token that is also the API token would open the whole API. */
  distinctFrom?: { variable: string; token(env: unknown): unknown };
}

export const API_REALM: Realm = { variable: "API_TOKEN", opens: "The API", token: "the API token" };

const refusal = (realm: Realm) => new ApiError("auth.invalid", `Send ${realm.token} as \`Authorization: Bearer <${realm.variable}>\`.`);

/** The configured token, or the refusal that closes the realm's routes while there is none (or none that a client could send). */
function configured(realm: Realm, env: unknown, token: unknown): string {
  const { variable, opens } = realm;
  if (typeof token !== "string" || token.length === 0) {
    throw new ApiError("auth.not_configured", `${opens} is closed: no ${variable} is configured. Set one with \`wrangler secret put ${variable}\` (or \`--var ${variable}:<token>\` for wrangler dev).`);
  }
  if (!BEARER_TOKEN.test(token)) {
    throw new ApiError(
      "auth.not_configured",
      `${opens} is closed: ${variable} holds characters a bearer token cannot carry. Use letters, digits and - . _ ~ + / (with = only at the end), e.g. \`openssl rand -hex 32\`, set with \`wrangler secret put ${variable}\`.`,
    );
  }
  const other = realm.distinctFrom;
  if (other && other.token(env) === token) {
    throw new ApiError("auth.not_configured", `${opens} is closed: ${variable} is the same as ${other.variable}, which would open the whole API to it. Set another with \`wrangler secret put ${variable}\`.`);
  }
  return token;
}

/**
 * Every request of the realm needs its token: hono's bearerAuth compares it
 * in constant time, and every way of failing (no header, another scheme, a
 * malformed or wrong token) is the same 401 `auth.invalid`. With no token
 * configured the realm's routes fail closed with `auth.not_configured`,
 * whatever the request sends. `token` reads the configured token from the
 * request's env.
 *
 * The one exception: GET (and HEAD) of the paths in `queryTokenPaths` also
 * take the token as `?token=`, because browsers cannot set headers on an
 * EventSource or a WebSocket, which is how the dashboard opens the event
 * stream and the inspection socket. A header, when sent, is what counts.
 */
export function requireToken(realm: Realm, token: (env: unknown) => unknown, queryTokenPaths: readonly RegExp[] = []): MiddlewareHandler {
  const refuse = (): never => {
    throw refusal(realm);
  };
  const header = bearerAuth({
    verifyToken: (given, c) => timingSafeEqual(configured(realm, c.env, token(c.env)), given),
    // Thrown rather than answered, so that onError gives them the one shape and status of every refusal.
    noAuthenticationHeader: { message: refuse },
    invalidAuthenticationHeader: { message: refuse },
    invalidToken: { message: refuse },
  });
  return async (c, next) => {
    const expected = configured(realm, c.env, token(c.env));
    const path = new URL(c.req.url).pathname;
    const inQuery = (c.req.method === "GET" || c.req.method === "HEAD") && !c.req.header("authorization") && queryTokenPaths.some((route) => route.test(path));
    const given = inQuery ? c.req.query("token") : undefined;
    if (given === undefined) return header(c, next);
    if (!(await timingSafeEqual(expected, given))) throw refusal(realm);
    await next();
  };
}
