import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import { ApiError } from "./error-codes";
import { ticketOpens } from "./tickets";

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

/** A token in a query string is refused wherever it comes: URLs are logged, kept in history and sent on as referrers. */
function tokenInQuery(realm: Realm, takesTickets: boolean): ApiError {
  const ticket = takesTickets ? ', or, where a client cannot set headers (a browser\'s WebSocket), POST /api/tickets { "path": "<the path>" } with that header and open the path with ?ticket=<ticket>' : "";
  return new ApiError("auth.token_in_query", `A token is not taken in a URL (?token=), which logs and browser history keep. Send ${realm.token} as \`Authorization: Bearer <${realm.variable}>\`${ticket}.`);
}

/** Where tickets are taken, and the time they are checked at. */
export interface TicketRule {
  /** The paths whose GET and HEAD take `?ticket=`. */
  paths: readonly RegExp[];
  now(): number;
}

/**
 * Every request of the realm needs its token: hono's bearerAuth compares it
 * in constant time, and every way of failing (no header, another scheme, a
 * malformed or wrong token) is the same 401 `auth.invalid`. With no token
 * configured the realm's routes fail closed with `auth.not_configured`,
 * whatever the request sends. `token` reads the configured token from the
 * request's env. A `?token=` is refused with `auth.token_in_query`, whatever
 * else the request sends.
 *
 * The one exception to the header: GET (and HEAD) of the paths in
 * `tickets.paths` also take a ticket (tickets.ts) issued for that very path,
 * as `?ticket=`, because a browser cannot set headers on a WebSocket, which is
 * how the dashboard opens the inspection socket. A header, when sent, is what
 * counts.
 */
export function requireToken(realm: Realm, token: (env: unknown) => unknown, tickets: TicketRule = { paths: [], now: Date.now }): MiddlewareHandler {
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
    const url = new URL(c.req.url);
    if (url.searchParams.has("token")) throw tokenInQuery(realm, tickets.paths.length > 0);
    const byTicket = (c.req.method === "GET" || c.req.method === "HEAD") && !c.req.header("authorization") && tickets.paths.some((route) => route.test(url.pathname));
    const ticket = byTicket ? url.searchParams.get("ticket") : null;
    if (ticket === null) return header(c, next);
    if (!(await ticketOpens(expected, url.pathname, ticket, tickets.now()))) {
      throw new ApiError("auth.invalid", "The ticket was not issued for this path, or has expired (a ticket lasts a minute). POST /api/tickets { \"path\": \"<this path>\" } with `Authorization: Bearer <API_TOKEN>` for a new one.");
    }
    await next();
  };
}
