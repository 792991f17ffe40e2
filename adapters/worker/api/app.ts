import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { WorkflowCatalog } from "../../../runtime/catalog";
import type { WorkflowClient } from "../../../runtime/client";
import type { PythonWorkers } from "../../../runtime/python-workers";
import { API_REALM, requireToken, type Realm } from "./auth";
import { mount, pathPattern, type Endpoint } from "./endpoint";
import { ApiError } from "./error-codes";
import { errorResponse, onError } from "./on-error";
import { documentEndpoint, registerSecuritySchemes } from "./openapi";
import { changesEndpoint } from "./routes/changes";
import { instanceEndpoints } from "./routes/instance";
import { instancesEndpoints } from "./routes/instances";
import { logEndpoints } from "./routes/log";
import { timeTravelEndpoints } from "./routes/time-travel";
import { PYTHON_PREFIX, pythonEndpoints } from "./routes/python";
import { ticketEndpoint } from "./routes/tickets";
import { workflowsEndpoints } from "./routes/workflows";

/**
 * What the API needs from its host, so that the same app serves the
 * Durable Object host in a Worker and the memory host in Node's tests.
 * `env` is what the request came with (a Worker's bindings).
 */
export interface ApiHost {
  /** The workflows served: their names, and the definition each instance was created by. */
  catalog: Pick<WorkflowCatalog, "names" | "pinned">;
  /** The client that reaches the instances. */
  client(env: unknown): { workflow(name: string): WorkflowClient };
  /** The API token configured in `env`; the API is closed while there is none. */
  token(env: unknown): unknown;
  /** The live inspection socket, where the host has one (workerd's instance objects); the route exists only then. */
  inspect?(env: unknown, workflow: string, id: string, request: Request): Promise<Response>;
  /** The Python worker protocol for a workflow, where the host serves it; the routes under /api/python/ exist only then. */
  python?(env: unknown, workflow: string): PythonWorkers;
  /** The Python worker token configured in `env` (PYTHON_WORKER_TOKEN); the worker routes are closed while there is none. */
  workerToken?(env: unknown): unknown;
  /** The time tickets are issued and checked at, in epoch milliseconds: Date.now unless a test moves a clock. */
  now?(): number;
}

/** Every path segment must be valid percent-encoding: the router would otherwise pass a malformed one on undecoded. */
const decodablePath: MiddlewareHandler = async (c, next) => {
  for (const segment of new URL(c.req.url).pathname.split("/")) {
    try {
      decodeURIComponent(segment);
    } catch {
      throw new ApiError("request.invalid_path", "A path segment is not valid percent-encoding; encode ids and names with encodeURIComponent.");
    }
  }
  await next();
};

/** Every endpoint the app serves, the OpenAPI document's included. */
export function apiEndpoints(host: ApiHost, document: () => unknown): Endpoint[] {
  const python = host.python ? pythonEndpoints(host.python.bind(host)) : [];
  const served = [...workflowsEndpoints(host), changesEndpoint(host), ...instancesEndpoints(host), ...instanceEndpoints(host), ...logEndpoints(host), ...timeTravelEndpoints(host), ...python];
  return [...served, ticketEndpoint(host, ticketPaths(served), clockOf(host)), documentEndpoint(document)];
}

/** The paths a ticket can open: those of the endpoints that take one. */
const ticketPaths = (endpoints: readonly Endpoint[]) => endpoints.filter((spec) => spec.ticket).map(pathPattern);

function clockOf(host: ApiHost): () => number {
  return host.now ? host.now.bind(host) : Date.now;
}

/**
 * The Python worker routes' token: never the API token (which must not open
 * them, nor this one the rest of the API), so that a GPU box running workers
 * never holds the admin token.
 */
const workerRealm = (host: ApiHost): Realm => ({
  variable: "PYTHON_WORKER_TOKEN",
  opens: "The Python worker routes",
  token: "the Python worker token",
  distinctFrom: { variable: "API_TOKEN", token: host.token },
});

/**
 * The HTTP API as a Hono app, for paths under /api. In order, every request
 * is: authenticated (bearer token, or a ticket where one is taken, failing closed: API_TOKEN, or under
 * /api/python/ where the host serves Python workers, PYTHON_WORKER_TOKEN and
 * only it), its path checked, routed
 * (405 with `Allow` for a known path and another method; HEAD wherever GET
 * is), then validated against its endpoint's schemas before the endpoint
 * runs. Every error is `{ error: { code, message } }` with the status
 * error-codes.ts gives the code.
 */
export function createApi(host: ApiHost): OpenAPIHono {
  const app = new OpenAPIHono();
  app.onError(onError);
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    return errorResponse("route.not_found", `No route for ${c.req.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}; GET /api/openapi.json lists them.`);
  });
  const endpoints = apiEndpoints(host, () => document(app));
  const api = requireToken(API_REALM, host.token, { paths: ticketPaths(endpoints), now: clockOf(host) });
  const workers = requireToken(workerRealm(host), (env) => host.workerToken?.(env));
  const isWorkerPath = (url: string) => host.python !== undefined && `${new URL(url).pathname}/`.startsWith(PYTHON_PREFIX);
  app.use("/api/*", (c, next) => (isWorkerPath(c.req.url) ? workers : api)(c, next));
  app.use("/api/*", decodablePath);
  app.use(
    "/api/*",
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => errorResponse("method.not_allowed", `${c.req.method} is not allowed here; use ${methods.join(" or ")}.`, { allow: methods.join(", ") }),
    }),
  );
  registerSecuritySchemes(app, { workers: host.python !== undefined });
  for (const spec of endpoints) mount(app, spec);
  return app;
}

/** The app's OpenAPI 3.1 document, generated from the endpoints' schemas. */
export function document(app: OpenAPIHono) {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "durable-machines",
      version: "1",
      description: "Workflows as durable instances: create them, send them events, read their logs. Every error is { error: { code, message } }.",
    },
  });
}
