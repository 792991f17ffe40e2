import { DurableMachinesError } from "../../core/errors";
import { MAX_PAYLOAD_BYTES, utf8Length } from "../../core/json";
import { redacted, type LogRecord } from "../../core/records";
import type { InstanceStatusName } from "../../core/status";
import { stepHistory } from "../../core/step-history";
import type { WorkflowCatalog } from "../../runtime/catalog";
import { MAX_LIST_LIMIT, type CreateOptions, type InstanceHandle, type RestartFrom } from "../../runtime/client";
import type { WorkersClient } from "./client";
import { eventStream, streamOptions } from "./event-stream";

/**
 * Each payload is held to 1 MiB as JSON once parsed; the body around it may be
 * larger (a batch, or a payload with every character escaped as \uXXXX),
 * up to this many bytes.
 */
const MAX_BODY_BYTES = 8 * MAX_PAYLOAD_BYTES;

class HttpError extends DurableMachinesError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

const STATUS_BY_CODE: [prefix: string, status: number][] = [
  ["auth.", 401],
  ["host.", 500],
  ["workflow.not_found", 404],
  ["instance.not_found", 404],
  ["route.not_found", 404],
  ["instance.already_exists", 409],
  ["instance.finished", 409],
  ["instance.cannot_", 409],
  ["definition.mismatch", 409],
  ["payload.too_large", 413],
];

function statusFor(error: DurableMachinesError): number {
  if (error instanceof HttpError) return error.status;
  return STATUS_BY_CODE.find(([prefix]) => error.code.startsWith(prefix))?.[1] ?? 400;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8" } });
}

function failure(error: DurableMachinesError): Response {
  return json({ error: { code: error.code, message: error.message } }, statusFor(error));
}

async function sameToken(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(given)), crypto.subtle.digest("SHA-256", encoder.encode(expected))]);
  const left = new Uint8Array(a);
  const right = new Uint8Array(b);
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ right[i]!;
  return difference === 0;
}

async function authorize(request: Request, token: unknown, allowQuery = false): Promise<void> {
  if (typeof token !== "string" || token.length === 0) {
    throw new HttpError(401, "auth.not_configured", "The API is closed: no API_TOKEN is configured. Set one with `wrangler secret put API_TOKEN` (or `--var API_TOKEN:<token>` for wrangler dev).");
  }
  const header = request.headers.get("authorization") ?? "";
  // WebSocket clients (browsers, the Stately inspector's receiver) cannot set headers, so the inspect socket also takes ?token=.
  const given = /^Bearer (.+)$/.exec(header)?.[1] ?? (allowQuery ? (new URL(request.url).searchParams.get("token") ?? undefined) : undefined);
  if (!given || !(await sameToken(given, token))) throw new HttpError(401, "auth.invalid", "Send the API token as `Authorization: Bearer <API_TOKEN>`.");
}

async function body(request: Request): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, "payload.too_large", `The request body is ${declared} bytes; the limit is ${MAX_BODY_BYTES}.`);
  const text = await request.text();
  if (utf8Length(text) > MAX_BODY_BYTES) throw new HttpError(413, "payload.too_large", `The request body is over ${MAX_BODY_BYTES} bytes.`);
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, "request.invalid_json", "The request body is not JSON; send a JSON object.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HttpError(400, "request.invalid_json", "The request body must be a JSON object.");
  return parsed as Record<string, unknown>;
}

function optionalInteger(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new HttpError(400, "request.invalid_query", `Query parameter "${name}" must be a whole number.`);
  return value;
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, "request.invalid_path", `The path segment "${part}" is not valid percent-encoding.`);
  }
}

type Route = (request: Request, url: URL, client: WorkersClient, params: string[], catalog: WorkflowCatalog) => Promise<Response>;

/** The whole log, read a page at a time. */
async function wholeLog(instance: InstanceHandle): Promise<LogRecord[]> {
  const log: LogRecord[] = [];
  for (;;) {
    const page = await instance.history({ after: log.at(-1)?.seq ?? 0, limit: MAX_LIST_LIMIT });
    log.push(...page);
    if (page.length < MAX_LIST_LIMIT) return log;
  }
}

/** A batch's answer: 207 when some of it was refused. */
const withErrors = <T extends { errors: unknown[] }>(result: T, allDone: number) => json(result, result.errors.length ? 207 : allDone);

const INSTANCE_ACTIONS = new Set(["pause", "resume", "terminate", "restart"]);

const routes: [method: string, pattern: RegExp, route: Route][] = [
  ["GET", /^\/api\/workflows\/([^/]+)$/, async (_request, _url, client, [name]) => json({ name, counts: await client.workflow(name!).counts() })],
  ["DELETE", /^\/api\/workflows\/([^/]+)\/instances$/, async (_request, _url, client, [name]) => json(await client.workflow(name!).deleteAll())],
  ["GET", /^\/api\/workflows\/([^/]+)\/instances$/, async (_request, url, client, [name]) => {
    const status = url.searchParams.get("status") ?? undefined;
    const limit = optionalInteger(url, "limit");
    const cursor = url.searchParams.get("cursor") ?? undefined;
    return json(await client.workflow(name!).list({ ...(status ? { status: status as InstanceStatusName } : {}), ...(limit === undefined ? {} : { limit }), ...(cursor ? { cursor } : {}) }));
  }],
  ["POST", /^\/api\/workflows\/([^/]+)\/instances$/, async (request, _url, client, [name]) => {
    const { id, params, retention, locationHint } = await body(request);
    if (id !== undefined && typeof id !== "string") throw new HttpError(400, "instance.invalid_id", "`id` must be a string.");
    const instance = await client.workflow(name!).create({ ...(id === undefined ? {} : { id }), params, retention, locationHint } as CreateOptions);
    return json({ id: instance.id, ...(await instance.status()) }, 201);
  }],
  ["POST", /^\/api\/workflows\/([^/]+)\/instances\/batch$/, async (request, _url, client, [name]) => {
    // `{ instances }` or `{ count, params }`, as the binding's createBatch takes them; it checks the shape.
    const batch = (await body(request)) as { instances: CreateOptions[] };
    const { created, errors } = await client.workflow(name!).createBatch(batch);
    return withErrors({ created: created.map((instance) => ({ id: instance.id })), errors }, 201);
  }],
  ["POST", /^\/api\/workflows\/([^/]+)\/instances\/batch\/delete$/, async (request, _url, client, [name]) => {
    const { ids } = await body(request);
    return withErrors(await client.workflow(name!).deleteBatch(ids as string[]), 200);
  }],
  ["GET", /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)$/, async (_request, _url, client, [name, id]) => {
    const instance = await client.workflow(name!).get(id!);
    return json({ id, ...(await instance.status()) });
  }],
  ["DELETE", /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)$/, async (_request, _url, client, [name, id]) => {
    const instance = await client.workflow(name!).get(id!);
    await instance.delete();
    return json({ id, deleted: true });
  }],
  ["POST", /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)\/(pause|resume|terminate|restart)$/, async (request, _url, client, [name, id, action]) => {
    const instance = await client.workflow(name!).get(id!);
    if (!INSTANCE_ACTIONS.has(action!)) throw new HttpError(404, "route.not_found", `Unknown action "${action}".`);
    if (action === "restart") {
      const { from } = await body(request);
      if (from !== undefined && typeof from !== "string" && (typeof from !== "object" || from === null)) {
        throw new HttpError(400, "request.invalid", "`from` must be a step key as history shows it, or { name, count?, type? }.");
      }
      await instance.restart(from === undefined ? {} : { from: from as RestartFrom });
    } else if (action === "terminate") {
      const { rollback } = await body(request);
      if (rollback !== undefined && typeof rollback !== "boolean") throw new HttpError(400, "request.invalid", "`rollback` must be true or false.");
      await instance.terminate(rollback ? { rollback: true } : {});
    } else {
      await instance[action as "pause" | "resume"]();
    }
    return json({ id, ...(await instance.status()) });
  }],
  ["POST", /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)\/events$/, async (request, _url, client, [name, id]) => {
    const { type, payload, idempotencyKey } = await body(request);
    const instance = await client.workflow(name!).get(id!);
    await instance.sendEvent({ type: type as string, payload, ...(idempotencyKey === undefined ? {} : { idempotencyKey: idempotencyKey as string }) });
    return json({ id, ...(await instance.status()) }, 202);
  }],
  ["GET", /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)\/history$/, async (_request, url, client, [name, id]) => {
    const instance = await client.workflow(name!).get(id!);
    const after = optionalInteger(url, "after");
    const limit = optionalInteger(url, "limit");
    const records = (await instance.history({ ...(after === undefined ? {} : { after }), ...(limit === undefined ? {} : { limit }) })).map(redacted);
    return json({ records, ...(records.length ? { next: records.at(-1)!.seq } : {}) });
  }],
  ["GET", /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)\/steps$/, async (_request, _url, client, [name, id], catalog) => {
    const log = await wholeLog(await client.workflow(name!).get(id!));
    const created = log[0] as LogRecord<"instance.created">;
    return json({ steps: stepHistory(log, catalog.pinned(name!, id!, created.data.definitionHash)) });
  }],
  ["GET", /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)\/events$/, async (request, url, client, [name, id]) => eventStream(await client.workflow(name!).get(id!), streamOptions(request, url))],
];

/** The HTTP API: JSON in and out, bearer token required, errors as `{ error: { code, message } }`. */
export async function handleApi(request: Request, client: () => WorkersClient, token: unknown, catalog: WorkflowCatalog): Promise<Response> {
  try {
    const url = new URL(request.url);
    const inspect = /^\/api\/workflows\/([^/]+)\/instances\/([^/]+)\/inspect$/.exec(url.pathname);
    // Browsers' EventSource cannot set headers either.
    const stream = request.method === "GET" && /^\/api\/workflows\/[^/]+\/instances\/[^/]+\/events$/.test(url.pathname);
    await authorize(request, token, inspect !== null || stream);
    if (inspect && request.method === "GET") {
      const [name, id] = inspect.slice(1).map(decodePart) as [string, string];
      await client().workflow(name).get(id);
      const forwarded = new URL(request.url);
      forwarded.search = "";
      forwarded.searchParams.append("instance", name);
      forwarded.searchParams.append("instance", id);
      return await client().stub(name, id).fetch(new Request(forwarded, request));
    }
    if (url.pathname === "/api/workflows" && request.method === "GET") return json({ workflows: catalog.names() });
    for (const [method, pattern, route] of routes) {
      const match = pattern.exec(url.pathname);
      if (match && request.method === method) return await route(request, url, client(), match.slice(1).map(decodePart), catalog);
    }
    throw new HttpError(404, "route.not_found", `No route for ${request.method} ${url.pathname}; see the README for the API.`);
  } catch (error) {
    if (error instanceof DurableMachinesError) return failure(error);
    throw error;
  }
}
