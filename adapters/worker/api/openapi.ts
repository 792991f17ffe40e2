import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { endpoint, type Endpoint } from "./endpoint";

/**
 * The ways to present a token: the API token as a header everywhere, or in the
 * query where a browser cannot set headers; the Python worker token, where
 * the host serves Python workers, as a header on their routes.
 */
export function registerSecuritySchemes(app: OpenAPIHono, { workers }: { workers: boolean }): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: "Authorization: Bearer <API_TOKEN>" });
  app.openAPIRegistry.registerComponent("securitySchemes", "queryToken", {
    type: "apiKey",
    in: "query",
    name: "token",
    description: "?token=<API_TOKEN>, taken only by the event stream and the inspection socket, for browsers' EventSource and WebSocket",
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
