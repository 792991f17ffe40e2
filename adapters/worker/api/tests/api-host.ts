import { assign, setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, step, type MemoryStorage, type LogRecord, type MemoryHost } from "../../../../index";
import { WorkflowCatalog } from "../../../../runtime/catalog";
import { booking } from "../../../../test/booking";
import type { PythonWorkers } from "../../../../runtime/python-workers";
import { createApi, type ApiHost } from "../app";

export const TOKEN = "test-token";
export const AUTH = { authorization: `Bearer ${TOKEN}` };
/** The Python worker routes' token, which the rest of the API refuses, as they refuse the API's. */
export const WORKER_TOKEN = "test-worker-token";
export const WORKER_AUTH = { authorization: `Bearer ${WORKER_TOKEN}` };

/** A machine that prepares, then waits in `approval` for an `approve` event, whose payload it completes with. */
export const gate = defineWorkflow({
  name: "gate",
  machine: setup({
    types: { context: {} as { approval: unknown } },
    actors: { prepare: step(async () => "prepared") },
  }).createMachine({
    id: "gate",
    context: { approval: null },
    initial: "preparing",
    states: {
      preparing: { invoke: { src: "prepare", onDone: "approval" } },
      approval: { on: { approve: { target: "done", actions: assign({ approval: ({ event }) => (event as { payload?: unknown }).payload ?? null }) } } },
      done: { type: "final" },
    },
    output: ({ context }) => ({ approval: context.approval }),
  }),
});

/** A workflow whose run() a Python worker runs: here, the tests drive the protocol by hand. */
export const pipeline = defineWorkflow({ name: "pipeline", python: { leaseMs: 10_000 } });

export const WORKFLOWS = [gate, booking, pipeline];

export interface Reply {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when there is none. */
  body: any;
  text: string;
}

export interface RequestOptions {
  /** A string is sent as it is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The API app over a memory host on a manual clock, as a Worker would serve
 * it but in Node: requests go through `app.request()`.
 */
export function apiHost(
  options: {
    token?: unknown;
    workerToken?: unknown;
    inspect?: ApiHost["inspect"];
    client?: (host: MemoryHost) => ReturnType<ApiHost["client"]>;
    storage?: MemoryStorage;
    /** Leave the Python worker routes out, as a host that serves no Python does. */
    withoutPython?: true;
  } = {},
) {
  const clock = createManualClock(1_000_000);
  const host = createMemoryHost({ workflows: WORKFLOWS, clock, ...(options.storage ? { storage: options.storage } : {}) });
  const token = "token" in options ? options.token : TOKEN;
  const workerToken = "workerToken" in options ? options.workerToken : WORKER_TOKEN;
  const app = createApi({
    catalog: new WorkflowCatalog(WORKFLOWS),
    client: () => (options.client ? options.client(host) : host),
    token: () => token,
    now: () => clock.now(),
    ...(options.inspect ? { inspect: options.inspect } : {}),
    ...(options.withoutPython ? {} : { python: (_env: unknown, workflow: string) => counted(host.python(workflow)), workerToken: () => workerToken }),
  });
  /**
   * Requests that got through the app to the host's Python workers: the token check hashes on Node's thread pool, so
   * how many turns of the event loop a request takes to arrive is not fixed, and a test that parks one waits for this.
   */
  let pythonArrivals = 0;
  const counted = (workers: PythonWorkers): PythonWorkers => ({
    claim: (...args) => (pythonArrivals++, workers.claim(...args)),
    calls: (...args) => (pythonArrivals++, workers.calls(...args)),
    heartbeat: (...args) => (pythonArrivals++, workers.heartbeat(...args)),
    release: (...args) => (pythonArrivals++, workers.release(...args)),
  });

  async function send(method: string, path: string, { body, headers = AUTH }: RequestOptions = {}): Promise<Response> {
    return app.request(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === "string" || body instanceof ReadableStream || body instanceof Uint8Array ? (body as RequestInit["body"]) : JSON.stringify(body) }),
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
  }

  async function call(method: string, path: string, options?: RequestOptions): Promise<Reply> {
    const response = await send(method, path, options);
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
  }

  return {
    app,
    host,
    clock,
    send,
    call,
    settle: () => settle(host),
    pythonArrivals: () => pythonArrivals,
    logs: () => logsOf(host),
    get: (path: string) => call("GET", path),
    post: (path: string, body?: unknown) => call("POST", path, { body }),
  };
}

/** Lets every step that can run, run: flushes the microtasks and timers the host's work is waiting on. */
export async function settle(host: MemoryHost): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await host.idle();
  }
}

/** Every instance's log, as JSON text: what a refusal must leave exactly as it was. */
export function logsOf(host: MemoryHost): string {
  return JSON.stringify(host.storage.all().map(({ workflow, id }) => [workflow, id, host.storage.store(workflow, id).read()] as [string, string, LogRecord[]]));
}

export type ApiHostFixture = ReturnType<typeof apiHost>;

/** Every refusal is `{ error: { code, message } }`, and nothing else, with the status given. */
export function expectError(reply: Reply, status: number, code: string, expect: typeof import("vitest").expect): string {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(reply.body)).toEqual(["error"]);
  expect(Object.keys(reply.body.error).sort()).toEqual(["code", "message"]);
  expect(reply.body.error.code).toBe(code);
  expect(reply.body.error.message.length).toBeGreaterThan(0);
  return reply.body.error.message as string;
}

/** A host with one gate instance, "g1", settled where it waits for `approve`: what refusals are tried against. */
export async function waitingGate(expect: typeof import("vitest").expect): Promise<ApiHostFixture> {
  const api = apiHost();
  expect((await api.post("/api/workflows/gate/instances", { id: "g1" })).status).toBe(201);
  await api.settle();
  expect((await api.get("/api/workflows/gate/instances/g1")).body.value).toBe("approval");
  return api;
}
