import type { ApiHost } from "../app";
import { BODY_BYTES } from "../body";
import { endpoint, type Endpoint } from "../endpoint";
import { ApiError } from "../error-codes";
import { TicketAnswer, TicketBody } from "../schemas";
import { issueTicket, TICKET_LIFETIME_MS } from "../tickets";

/** Any origin will do: the path is resolved against it only to read it as a request would carry it. */
const BASE = "https://ticket.invalid";

/**
 * POST /api/tickets: a ticket (tickets.ts) for one of the paths in
 * `ticketPaths`, issued to a holder of the API token, for a client that
 * cannot send it as a header. The path is read as a request carries it
 * (percent-encoded), so that the ticket matches the path the client opens.
 */
export function ticketEndpoint(host: ApiHost, ticketPaths: readonly RegExp[], now: () => number): Endpoint {
  return endpoint({
    method: "post",
    path: "/api/tickets",
    summary: "A ticket opening GET of one path (the event stream or the inspection socket) for a minute, for a client that cannot send `Authorization`: a browser's WebSocket",
    body: { schema: TicketBody, limit: BODY_BYTES },
    answers: { 201: { description: "the ticket: send it as ?ticket= on that path", schema: TicketAnswer } },
    errors: [],
    handle: async (c, { body: { path } }) => {
      const url = path.startsWith("/") && !path.startsWith("//") ? new URL(path, BASE) : undefined;
      if (!url || url.origin !== BASE || url.search !== "" || url.hash !== "" || !ticketPaths.some((route) => route.test(url.pathname))) {
        throw new ApiError(
          "request.invalid",
          'A ticket opens the event stream or the inspection socket of one instance: give its path alone, as { "path": "/api/workflows/<name>/instances/<id>/inspect" } or …/events, with no query.',
        );
      }
      const expiresAt = now() + TICKET_LIFETIME_MS;
      return c.json({ ticket: await issueTicket(String(host.token(c.env)), url.pathname, expiresAt), expiresAt }, 201);
    },
  });
}
