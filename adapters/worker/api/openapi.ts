import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { endpoint, type Endpoint } from "./endpoint";

/**
 * The ways to present a token: the API token as a header everywhere, or a
 * ticket issued under it in the query where a browser cannot set headers; the
 * Python worker token, where the host serves Python workers, as a header on
 * their routes.
 */
export function registerSecuritySchemes(app: OpenAPIHono, { workers }: { workers: boolean }): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: "Authorization: Bearer <API_TOKEN>" });
  app.openAPIRegistry.registerComponent("securitySchemes", "ticket", {
    type: "apiKey",
    in: "query",
    name: "ticket",
    description: "?ticket=<ticket>, from POST /api/tickets { path } under the API token: opens GET of that one path for a minute; taken only by the event streams (an instance's events, a workflow's changes) and the inspection socket, for a browser's WebSocket or EventSource. A token is never taken in a query (auth.token_in_query).",
  });
  if (workers) {
    app.openAPIRegistry.registerComponent("securitySchemes", "workerBearer", {
      type: "http",
      scheme: "bearer",
      description: "Authorization: Bearer <PYTHON_WORKER_TOKEN>, on the Python worker routes only (API_TOKEN does not open them, nor this token the rest)",
    });
  }
}

/**
 * GET /api/openapi.json, behind the token like every /api route: one rule
 * for the whole API, with no exception to audit, and a client that can use
 * the API has the token to read its description.
 */
export function documentEndpoint(document: () => unknown): Endpoint {
  return endpoint({
    method: "get",
    path: "/api/openapi.json",
    summary: "This API's OpenAPI 3.1 document, generated from the schemas its validators use",
    answers: { 200: { description: "the document", schema: z.record(z.string(), z.unknown()) } },
    errors: [],
    handle: (c) => c.json(document() as Record<string, unknown>),
  });
}
