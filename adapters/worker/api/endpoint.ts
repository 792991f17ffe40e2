import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { readJsonObject } from "./body";
import { ApiError, ERROR_STATUS, type ErrorCode } from "./error-codes";
import { errorAnswer, REPEATABLE_QUERY_KEYS } from "./schemas";
import { validate } from "./validation";

type Shape = z.ZodObject<z.ZodRawShape>;
type Output<T> = T extends z.ZodType ? z.output<T> : undefined;

/** An answer a route documents: its description, and the schema of its JSON body (or another content type's). */
interface Answer {
  description: string;
  schema?: z.ZodType;
  /** For answers that are not JSON: Server-Sent Events. */
  contentType?: string;
}

/**
 * One route of the API, declared once: the router runs its validators from
 * these schemas, and the OpenAPI document describes it from the same
 * schemas, so the two cannot drift apart.
 */
export interface Endpoint<P extends Shape | undefined = Shape | undefined, Q extends Shape | undefined = Shape | undefined, B extends z.ZodType | undefined = z.ZodType | undefined> {
  method: "get" | "post" | "delete";
  /** In OpenAPI's form: /api/workflows/{name}. */
  path: string;
  summary: string;
  params?: P;
  query?: Q;
  /** A JSON object body and the most bytes it may take as sent. */
  body?: { schema: B; limit: number };
  answers: Record<number, Answer>;
  /** The codes this route refuses with, besides those every route or every body can bring (see `refusals`). */
  errors: readonly ErrorCode[];
  /** Whether GET may also be opened by a ticket, `?ticket=` (tickets.ts), for a browser's WebSocket, which cannot set headers. */
  ticket?: true;
  /** A Python worker route: it takes PYTHON_WORKER_TOKEN, and only it (app.ts). */
  workerToken?: true;
  handle(c: Context, input: { params: Output<P>; query: Output<Q>; body: Output<B> }): Promise<Response> | Response;
}

/** Declares an endpoint with its input types inferred from its schemas. */
export const endpoint = <P extends Shape | undefined = undefined, Q extends Shape | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  spec: Endpoint<P, Q, B>,
): Endpoint => spec as unknown as Endpoint;

/** Codes any /api request can be refused with: its credentials (or a token in its query), a path that is not valid percent-encoding, a bug. */
const EVERY_ROUTE: readonly ErrorCode[] = ["auth.invalid", "auth.not_configured", "auth.token_in_query", "request.invalid_path", "internal"];
const WITH_QUERY: readonly ErrorCode[] = ["request.invalid_query"];
const WITH_BODY: readonly ErrorCode[] = ["request.invalid_json", "request.invalid", "payload.too_large", "payload.too_deep"];

/** Every code an endpoint can answer with, in the table's order. */
export function refusals(spec: Endpoint): ErrorCode[] {
  const codes = new Set<ErrorCode>([...EVERY_ROUTE, ...(spec.query ? WITH_QUERY : []), ...(spec.body ? WITH_BODY : []), ...spec.errors]);
  return (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => codes.has(code));
}

/** A query's values for the keys its schema knows: one value each, or every value for a repeatable key. */
function queryFor(schema: Shape, url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of Object.keys(schema.shape)) {
    const values = url.searchParams.getAll(key);
    if (values.length === 0) continue;
    if (REPEATABLE_QUERY_KEYS.has(key)) query[key] = values;
    else if (values.length > 1) throw new ApiError("request.invalid_query", `Query parameter "${key}" is given ${values.length} times; give it once.`);
    else query[key] = values[0]!;
  }
  return query;
}

/** The route's answers for OpenAPI: its own, then one per error status, listing the codes it can bring. */
function documentedAnswers(spec: Endpoint) {
  const answers: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {};
  for (const [status, answer] of Object.entries(spec.answers)) {
    answers[status] = { description: answer.description, ...(answer.schema ? { content: { [answer.contentType ?? "application/json"]: { schema: answer.schema } } } : {}) };
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of refusals(spec)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, codes] of byStatus) answers[status] = { description: codes.join(", "), content: { "application/json": { schema: errorAnswer(codes) } } };
  return answers;
}

/** The paths an endpoint's template matches, as the router matches them: one segment per parameter. */
export const pathPattern = (spec: Endpoint) => new RegExp(`^${spec.path.replaceAll(/\{\w+\}/g, "[^/]+")}$`);

/** Adds an endpoint to the app: to the OpenAPI document, and to the router behind its validators. */
export function mount(app: OpenAPIHono, spec: Endpoint): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      security: spec.workerToken ? [{ workerBearer: [] }] : spec.ticket ? [{ bearer: [] }, { ticket: [] }] : [{ bearer: [] }],
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.body ? { body: { content: { "application/json": { schema: spec.body.schema } }, required: false } } : {}),
      },
      responses: documentedAnswers(spec),
    }),
  );
  const routerPath = spec.path.replaceAll(/\{(\w+)\}/g, ":$1");
  app.on(spec.method.toUpperCase(), routerPath, async (c) => {
    const params = spec.params ? validate("path", spec.params, c.req.param()) : undefined;
    const query = spec.query ? validate("query", spec.query, queryFor(spec.query, new URL(c.req.url))) : undefined;
    const body = spec.body ? validate("body", spec.body.schema!, await readJsonObject(c.req.raw, spec.body.limit)) : undefined;
    return spec.handle(c, { params, query, body } as never);
  });
}
