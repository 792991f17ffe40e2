import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  DurableMachinesError,
  InstanceExistsError,
  InstanceFinishedError,
  InstanceNotFoundError,
  InvalidEventError,
  InvalidInstanceIdError,
  InvalidOperationError,
  PayloadTooLargeError,
  UnknownWorkflowError,
} from "../core/errors";
import type { LogRecord } from "../core/records";
import { BOOKING_ROLLBACKS, BOOKING_STEPS } from "./booking";
import { until } from "./until";
import { workflows } from "./worker";
import { B_RETRY_DELAY } from "./workflows";

/** The Worker's default export, called in-process through its loopback binding. */
const worker = (exports as unknown as { default: Fetcher }).default;
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const client = () => workflows.client(env);

const BASE = "https://example.com/api";
const AUTH = { authorization: "Bearer test-token" };
const MIB = 1024 * 1024;

type Body = Record<string, any>;
interface Reply {
  status: number;
  body: Body;
}

function request(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Request {
  return new Request(`${BASE}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

async function reply(response: Response): Promise<Reply> {
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: response.status, body: (await response.json()) as Body };
}

/** One API call through the Worker's fetch; a string body is sent as is, anything else as JSON. */
async function api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> {
  return reply(await worker.fetch(request(method, path, body, headers)));
}

const get = (path: string) => api("GET", path);
const post = (path: string, body?: unknown) => api("POST", path, body);

/** Every refusal is `{ error: { code, message } }` with a status matching its code. */
function expectError(answer: Reply, status: number, code: string): string {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(Object.keys(answer.body)).toEqual(["error"]);
  expect(Object.keys(answer.body.error).sort()).toEqual(["code", "message"]);
  expect(answer.body.error.code).toBe(code);
  expect(typeof answer.body.error.message).toBe("string");
  expect(answer.body.error.message.length).toBeGreaterThan(0);
  return answer.body.error.message as string;
}

const instances = (workflow = "gated") => `/workflows/${workflow}/instances`;
const instancePath = (id: string, workflow = "gated") => `${instances(workflow)}/${encodeURIComponent(id)}`;

async function history(id: string, workflow = "gated"): Promise<LogRecord[]> {
  const answer = await get(`${instancePath(id, workflow)}/history`);
  expect(answer.status).toBe(200);
  return answer.body.records as LogRecord[];
}

async function createGated(id: string, params: Record<string, unknown> = {}): Promise<Body> {
  const answer = await post(instances(), { id, params: { instance: id, ...params } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

const statusOf = async (id: string) => (await get(instancePath(id))).body;
const waitFor = (id: string, done: (status: Body) => boolean, what: string) => until(() => statusOf(id), done, `${id}: ${what}`);

/** A gated instance standing still at its approval gate: no step in flight, its timer an hour away. */
async function atApproval(id: string): Promise<void> {
  await createGated(id);
  await waitFor(id, (s) => s.value === "approval", "waiting for approval");
}

async function approveAndComplete(id: string, payload: unknown = { by: id }): Promise<Body> {
  await waitFor(id, (s) => s.value === "approval", "waiting for approval");
  const sent = await post(`${instancePath(id)}/events`, { type: "approve", payload });
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  return waitFor(id, (s) => s.status === "complete", "complete");
}

/** Runs `refuse` against an idle instance and checks its log is exactly as it was. */
async function logUnchanged(id: string, refuse: () => Promise<void>, workflow = "gated"): Promise<void> {
  const before = await history(id, workflow);
  expect(before.length).toBeGreaterThan(0);
  await refuse();
  expect(await history(id, workflow)).toEqual(before);
}

describe("auth", () => {
  it("refuses a request without an Authorization header", async () => {
    const message = expectError(await api("GET", "/workflows", undefined, {}), 401, "auth.invalid");
    expect(message).toContain("Authorization: Bearer");
  });

  it("refuses a wrong token, and a token sent in the wrong form", async () => {
    expectError(await api("GET", "/workflows", undefined, { authorization: "Bearer wrong-token" }), 401, "auth.invalid");
    expectError(await api("GET", "/workflows", undefined, { authorization: "Bearer test-token-and-more" }), 401, "auth.invalid");
    expectError(await api("GET", "/workflows", undefined, { authorization: "test-token" }), 401, "auth.invalid");
    expectError(await api("GET", "/workflows", undefined, { authorization: "Basic test-token" }), 401, "auth.invalid");
  });

  it("refuses before doing anything: a create without the token creates nothing", async () => {
    const id = "auth-no-create";
    expectError(await api("POST", instances(), { id, params: { instance: id } }, {}), 401, "auth.invalid");
    expectError(await get(instancePath(id)), 404, "instance.not_found");
  });

  it("fails closed when no API_TOKEN is configured, and says how to set one", async () => {
    for (const token of [undefined, ""]) {
      for (const headers of [AUTH, {}, { authorization: "Bearer " }]) {
        const answer = await reply(await workflows.fetch(request("GET", "/workflows", undefined, headers), { ...env, API_TOKEN: token }));
        const message = expectError(answer, 401, "auth.not_configured");
        expect(message).toContain("API_TOKEN");
        expect(message).toContain("wrangler secret put API_TOKEN");
      }
    }
  });

  it("lets the right token through", async () => {
    const answer = await get("/workflows");
    expect(answer.status).toBe(200);
  });
});

describe("the Worker's fetch: the API under /api, the dashboard elsewhere", () => {
  it("answers HEAD like GET without a body, for the dashboard and the API; other paths and methods are 404s", async () => {
    const page = await worker.fetch(new Request("https://example.com/"));
    const head = await worker.fetch(new Request("https://example.com/", { method: "HEAD" }));
    expect(head.status).toBe(page.status);
    expect(head.headers.get("content-type")).toBe(page.headers.get("content-type"));
    expect(await head.text()).toBe("");
    expect((await page.text()).length).toBeGreaterThan(0);
    const apiHead = await worker.fetch(request("HEAD", "/workflows"));
    expect(apiHead.status).toBe(200);
    expect(await apiHead.text()).toBe("");
    expect((await worker.fetch(new Request("https://example.com/", { method: "POST" }))).status).toBe(404);
    expect((await worker.fetch(new Request("https://example.com/elsewhere"))).status).toBe(404);
  });

  it("refuses a batch count of a billion at once", async () => {
    const started = Date.now();
    expectError(await post(`${instances()}/batch`, { count: 1_000_000_000 }), 400, "batch.invalid");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("the lifecycle of a gated instance over HTTP", () => {
  it("runs to completion, and its history reads in order and in pages", async () => {
    const id = "life-complete";
    const created = await createGated(id);
    expect(created.id).toBe(id);
    expect(["running", "waiting"]).toContain(created.status);
    expect(created).toHaveProperty("value");

    await waitFor(id, (s) => s.value === "approval", "waiting for approval");
    const waiting = await statusOf(id);
    expect(waiting).toEqual({ id, status: "waiting", value: "approval" });

    const sent = await post(`${instancePath(id)}/events`, { type: "approve", payload: { by: "alice", note: "looks good" } });
    expect(sent.status).toBe(202);
    expect(sent.body.id).toBe(id);
    expect(typeof sent.body.status).toBe("string");

    const done = await waitFor(id, (s) => s.status === "complete", "complete");
    expect(done).toEqual({
      id,
      status: "complete",
      value: "done",
      output: { results: ["a done", "b done", "c done"], approval: { by: "alice", note: "looks good" } },
    });

    const full = await get(`${instancePath(id)}/history`);
    expect(full.status).toBe(200);
    // One page holds the whole log, so there is no `next`: it is there only when more records follow.
    expect(Object.keys(full.body)).toEqual(["records"]);
    const records = full.body.records as LogRecord[];
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(records[0]!.type).toBe("instance.created");
    expect(records[0]!.data).toMatchObject({ workflow: "gated", instanceId: id, params: { instance: id } });
    expect(records.at(-1)!.type).toBe("instance.completed");
    expect(records.at(-1)!.data).toEqual({ output: done.output });
    expect(records.find((r) => r.type === "event.received")!.data).toEqual({ type: "approve", payload: { by: "alice", note: "looks good" } });
    for (const step of ["a", "b", "c"]) expect(await ledger().count(`${id}:${step}`)).toBe(1);

    // Pages of 3 through `after` and `next` give back the whole log, in order, with no gap and no repeat.
    const paged: LogRecord[] = [];
    let after: number | undefined = 0;
    while (after !== undefined) {
      const page = await get(`${instancePath(id)}/history?after=${after}&limit=3`);
      expect(page.status).toBe(200);
      const batch = page.body.records as LogRecord[];
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(3);
      expect(batch[0]!.seq).toBe(after + 1);
      if (page.body.next !== undefined) expect(page.body.next).toBe(batch.at(-1)!.seq);
      paged.push(...batch);
      after = page.body.next as number | undefined;
    }
    expect(paged).toEqual(records);
    expect((await get(`${instancePath(id)}/history?after=${records.length}`)).body).toEqual({ records: [] });

    const middle = await get(`${instancePath(id)}/history?after=2&limit=2`);
    expect(middle.body).toEqual({ records: records.slice(2, 4), next: 4 });
    expectError(await get(`${instancePath(id)}/history?after=-1`), 400, "request.invalid_query");
    expectError(await get(`${instancePath(id)}/history?limit=two`), 400, "request.invalid_query");
  });

  it("pauses, resumes, terminates and restarts over HTTP", async () => {
    const id = "life-controls";
    await createGated(id, { holdB: true });
    await until(() => ledger().count(`${id}:b`), (n) => n === 1, "b to start and hold");
    expect(await statusOf(id)).toEqual({ id, status: "running", value: "b" });

    // Only a paused instance resumes; the refusal leaves the log alone.
    const before = await history(id);
    expectError(await post(`${instancePath(id)}/resume`), 409, "instance.cannot_resume");
    expect(await history(id)).toEqual(before);

    const paused = await post(`${instancePath(id)}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.id).toBe(id);
    expect(["waitingForPause", "paused"]).toContain(paused.body.status);

    // The step in flight finishes while paused; the instance then stands paused.
    await ledger().release(`${id}:b`);
    await waitFor(id, (s) => s.status === "paused", "paused once b is done");
    const pausedLog = await history(id);
    expect(pausedLog.map((r) => r.type)).toContain("instance.paused");
    expect(pausedLog.some((r) => r.type === "step.succeeded" && (r.data as { key: string }).key.startsWith("0.gated.b"))).toBe(true);
    expect(await ledger().count(`${id}:c`)).toBe(0);

    const resumed = await post(`${instancePath(id)}/resume`);
    expect(resumed.status).toBe(200);
    expect(["running", "waiting"]).toContain(resumed.body.status);
    await waitFor(id, (s) => s.value === "approval", "at approval after the resume");

    const terminated = await post(`${instancePath(id)}/terminate`);
    expect(terminated.status).toBe(200);
    expect(terminated.body).toMatchObject({ id, status: "terminated" });
    expect((await statusOf(id)).status).toBe("terminated");

    await logUnchanged(id, async () => {
      expectError(await post(`${instancePath(id)}/terminate`), 409, "instance.cannot_terminate");
      expectError(await post(`${instancePath(id)}/resume`), 409, "instance.cannot_resume");
      expectError(await post(`${instancePath(id)}/events`, { type: "approve" }), 409, "instance.finished");
    });

    // Restart from the first step as history shows it, which runs the whole workflow again. A bare restart
    // (no `from`) is not used: it currently errors this workflow at its first transition, since the fold of
    // instance.restarted hands the machine an immer draft of the params that is revoked right after.
    const first = (await history(id)).find((r) => r.type === "step.started")!.data as { key: string };
    expect(first.key).toMatch(/^0\.gated\.a#1$/);
    const restarted = await post(`${instancePath(id)}/restart`, { from: first.key });
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    expect(restarted.body.id).toBe(id);
    expect(["running", "waiting"]).toContain(restarted.body.status);
    const done = await approveAndComplete(id, "second run");
    expect(done.output).toEqual({ results: ["a done", "b done", "c done"], approval: "second run" });
    // Every step ran once per run; b was released, so it did not hold the second time.
    for (const step of ["a", "b", "c"]) expect(await ledger().count(`${id}:${step}`)).toBe(2);

    // The log keeps the first run: created once, then terminated, restarted and completed.
    const types = (await history(id)).map((r) => r.type);
    expect(types.filter((t) => t === "instance.created")).toHaveLength(1);
    expect(types.indexOf("instance.terminated")).toBeLessThan(types.indexOf("instance.restarted"));
    expect(types.at(-1)).toBe("instance.completed");
  });

  it("restarts from a step key that history shows: earlier steps do not run again", async () => {
    const id = "life-restart-from";
    await createGated(id);
    await approveAndComplete(id, "first");
    const key = (await history(id)).find((r) => r.type === "step.started" && (r.data as { key: string }).key.startsWith("0.gated.c"))!.data as { key: string };
    const restarted = await post(`${instancePath(id)}/restart`, { from: key.key });
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    const done = await approveAndComplete(id, "second");
    expect(done.output).toEqual({ results: ["a done", "b done", "c done"], approval: "second" });
    expect(await ledger().count(`${id}:a`)).toBe(1);
    expect(await ledger().count(`${id}:b`)).toBe(1);
    expect(await ledger().count(`${id}:c`)).toBe(2);
  });
});

describe("listing", () => {
  it("names the workflows", async () => {
    const answer = await get("/workflows");
    expect(answer.status).toBe(200);
    const { workflows: names } = answer.body as { workflows: string[] };
    expect(names.slice(0, 4)).toEqual(["gated", "training-loop", "data-pipeline", "grocery-agent"]);
    expect(names).toContain("dm-sequential");
  });

  it("lists instances by status, in pages", async () => {
    const complete = ["list-c1", "list-c2", "list-c3"];
    const waiting = "list-w1";
    for (const id of complete) await createGated(id);
    await atApproval(waiting);
    for (const id of complete) await approveAndComplete(id);

    // The registry hears of status changes after the fact: wait until it shows all three.
    const listed = await until(
      () => get(`${instances()}?status=complete`),
      (answer) => complete.every((id) => (answer.body.instances as { id: string }[]).some((entry) => entry.id === id)),
      "the registry to list the three complete instances",
    );
    expect(listed.status).toBe(200);
    const all = listed.body.instances as { id: string; status: string; createdAt: number }[];
    expect(listed.body.cursor).toBeUndefined();
    for (const entry of all) {
      expect(entry.status).toBe("complete");
      expect(typeof entry.createdAt).toBe("number");
    }
    expect(all.map((e) => e.id)).not.toContain(waiting);
    // Newest first, the id breaking a tie of the same millisecond.
    expect(all).toEqual([...all].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)));

    const waitingList = await until(
      () => get(`${instances()}?status=waiting`),
      (answer) => (answer.body.instances as { id: string }[]).some((entry) => entry.id === waiting),
      "the registry to list the waiting instance",
    );
    for (const entry of waitingList.body.instances as { id: string; status: string }[]) expect(entry.status).toBe("waiting");
    expect((waitingList.body.instances as { id: string }[]).map((e) => e.id)).not.toContain(complete[0]);

    // Pages of one, following the cursor, give the same list.
    const paged: { id: string; status: string; createdAt: number }[] = [];
    let cursor: string | undefined;
    for (let page = 0; page <= all.length; page++) {
      const answer = await get(`${instances()}?status=complete&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(answer.status).toBe(200);
      const batch = answer.body.instances as typeof paged;
      expect(batch.length).toBeLessThanOrEqual(1);
      paged.push(...batch);
      cursor = answer.body.cursor as string | undefined;
      if (cursor === undefined) break;
      expect(cursor).toBe(`newest:${batch.at(-1)!.createdAt}:${batch.at(-1)!.id}`);
    }
    expect(cursor).toBeUndefined();
    expect(paged).toEqual(all);

    const two = await get(`${instances()}?status=complete&limit=2`);
    expect(two.body.instances).toEqual(all.slice(0, 2));
    expect(two.body.cursor).toBe(`newest:${all[1]!.createdAt}:${all[1]!.id}`);

    // Without a status, every instance is listed, whatever its status.
    const everything = await get(`${instances()}?limit=1000`);
    const ids = (everything.body.instances as { id: string }[]).map((e) => e.id);
    for (const id of [...complete, waiting]) expect(ids).toContain(id);
  });

  it("refuses an unknown status and a bad limit", async () => {
    const message = expectError(await get(`${instances()}?status=finished`), 400, "list.invalid_status");
    expect(message).toContain('"complete"');
    expectError(await get(`${instances()}?limit=0`), 400, "list.invalid_limit");
    expectError(await get(`${instances()}?limit=-1`), 400, "request.invalid_query");
    expectError(await get(`${instances()}?limit=ten`), 400, "request.invalid_query");
    expectError(await get(`${instances()}?limit=`), 400, "request.invalid_query");
    expectError(await get(`${instances()}?limit=0x10`), 400, "request.invalid_query");
    expectError(await get(`${instances()}?limit=1001`), 400, "request.invalid_query");
    expectError(await get(`${instances("nope")}`), 404, "workflow.not_found");
  });
});

describe("bad input is refused with the right status and code, and changes nothing", () => {
  it("refuses unknown workflows, instances and routes", async () => {
    const id = "bad-unknowns";
    await atApproval(id);
    await logUnchanged(id, async () => {
      const message = expectError(await get(instancePath(id, "nope")), 404, "workflow.not_found");
      expect(message).toContain('"gated"');
      expectError(await post(instances("nope"), { id, params: {} }), 404, "workflow.not_found");
      expectError(await post(`${instancePath(id, "nope")}/events`, { type: "approve" }), 404, "workflow.not_found");
      expectError(await get(`${instancePath(id, "training-loop")}`), 404, "instance.not_found");
      expectError(await post(`${instancePath(id)}/cancel`), 404, "route.not_found");
      expectError(await api("DELETE", `${instancePath(id)}/events`), 405, "method.not_allowed");
      expectError(await api("PUT", `${instancePath(id)}/events`, { type: "approve" }), 405, "method.not_allowed");
    });
    expectError(await get(instancePath("bad-unknowns-missing")), 404, "instance.not_found");
    expectError(await get(`${instancePath("bad-unknowns-missing")}/history`), 404, "instance.not_found");
    expectError(await post(`${instancePath("bad-unknowns-missing")}/events`, { type: "approve" }), 404, "instance.not_found");
    expectError(await post(`${instancePath("bad-unknowns-missing")}/pause`), 404, "instance.not_found");
    expectError(await get("/nothing-here"), 404, "route.not_found");
    expectError(await get("/workflows/gated/nothing"), 404, "route.not_found");
  });

  it("refuses invalid instance ids, in the URL and in the body", async () => {
    for (const bad of ["-x", "a".repeat(101), "a b", "a.b", "é"]) {
      expectError(await get(instancePath(bad)), 400, "instance.invalid_id");
      expectError(await post(`${instancePath(bad)}/events`, { type: "approve" }), 400, "instance.invalid_id");
      expectError(await post(instances(), { id: bad, params: { instance: "x" } }), 400, "instance.invalid_id");
    }
    expectError(await get(`${instances()}/a%20b`), 400, "instance.invalid_id");
    for (const bad of ["", 7, null, ["x"]]) expectError(await post(instances(), { id: bad }), 400, "instance.invalid_id");
    // The longest valid id is accepted.
    const longest = `z${"9".repeat(99)}`;
    const created = await createGated(longest);
    expect(created.id).toBe(longest);
    expect((await statusOf(longest)).id).toBe(longest);
  });

  it("refuses a duplicate id and leaves the first instance as it was", async () => {
    const id = "bad-duplicate";
    await atApproval(id);
    await logUnchanged(id, async () => {
      const message = expectError(await post(instances(), { id, params: { instance: "someone else" } }), 409, "instance.already_exists");
      expect(message).toContain(id);
    });
    expect((await history(id))[0]!.data).toMatchObject({ params: { instance: id } });
  });

  it("refuses params over 1 MiB, and creates nothing", async () => {
    const id = "bad-big-params";
    const answer = await post(instances(), { id, params: { instance: id, blob: "x".repeat(MIB) } });
    expectError(answer, 413, "payload.too_large");
    expectError(await get(instancePath(id)), 404, "instance.not_found");
    expectError(await get(`${instancePath(id)}/history`), 404, "instance.not_found");
  });

  it("refuses an event payload over 1 MiB", async () => {
    const id = "bad-big-event";
    await atApproval(id);
    await logUnchanged(id, async () => {
      expectError(await post(`${instancePath(id)}/events`, { type: "approve", payload: "x".repeat(MIB) }), 413, "payload.too_large");
    });
    expect((await statusOf(id)).value).toBe("approval");
  });

  it("refuses a body over the limit, declared or not", async () => {
    const id = "bad-big-body";
    await atApproval(id);
    await logUnchanged(id, async () => {
      const declared = new Request(`${BASE}${instancePath(id)}/events`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json", "content-length": String(9 * MIB) },
        body: JSON.stringify({ type: "approve" }),
      });
      expectError(await reply(await worker.fetch(declared)), 413, "payload.too_large");
      expectError(await post(`${instancePath(id)}/events`, `{"type":"approve","payload":"${"y".repeat(2 * MIB)}"}`), 413, "payload.too_large");
    });
  });

  it("refuses a body over 1 MiB and its envelope when the excess is outside params (accepted up to 8 MiB before), and creates nothing", async () => {
    const id = "junk-body";
    expectError(await post(instances(), { id, params: { instance: id }, junk: "y".repeat(2 * MIB) }), 413, "payload.too_large");
    expectError(await get(instancePath(id)), 404, "instance.not_found");
  });

  it("refuses a body nested thousands deep with payload.too_deep, and the instance's event stream still reads", async () => {
    const id = "deep-body";
    await atApproval(id);
    await logUnchanged(id, async () => {
      for (const depth of [3500, 3000]) {
        expectError(await post(`${instancePath(id)}/events`, `{"type":"approve","payload":${"[".repeat(depth)}${"]".repeat(depth)}}`), 400, "payload.too_deep");
      }
    });
    const stream = await worker.fetch(request("GET", `${instancePath(id)}/events`));
    expect(stream.status).toBe(200);
    await stream.body!.cancel();
  });

  it("refuses reserved and malformed events", async () => {
    const id = "bad-events";
    await atApproval(id);
    await logUnchanged(id, async () => {
      for (const type of ["xstate.done.actor.x", "xstate.error.actor.0.gated.b", "xstate.after.60000.gated.approval", "xstate.init", "", "a b", "-approve"]) {
        expectError(await post(`${instancePath(id)}/events`, { type, payload: { forged: true } }), 400, "event.invalid");
      }
      expectError(await post(`${instancePath(id)}/events`, { payload: 1 }), 400, "event.invalid");
      expectError(await post(`${instancePath(id)}/events`, { type: 5 }), 400, "event.invalid");
      expectError(await post(`${instancePath(id)}/events`, {}), 400, "event.invalid");
      expectError(await post(`${instancePath(id)}/events`, { type: "approve", idempotencyKey: "" }), 400, "event.invalid");
      expectError(await post(`${instancePath(id)}/events`, { type: "approve", idempotencyKey: 12 }), 400, "event.invalid");
    });
    expect((await statusOf(id)).value).toBe("approval");
  });

  it("refuses events to finished instances", async () => {
    const complete = "bad-finished-complete";
    await createGated(complete);
    await approveAndComplete(complete);
    await logUnchanged(complete, async () => {
      const message = expectError(await post(`${instancePath(complete)}/events`, { type: "approve", payload: "again" }), 409, "instance.finished");
      expect(message).toContain("complete");
      // An event is checked before the instance's status: a reserved type is refused as such, finished or not.
      expectError(await post(`${instancePath(complete)}/events`, { type: "xstate.done.actor.x" }), 400, "event.invalid");
      expectError(await post(`${instancePath(complete)}/terminate`), 409, "instance.cannot_terminate");
      expectError(await post(`${instancePath(complete)}/resume`), 409, "instance.cannot_resume");
    });

    const terminated = "bad-finished-terminated";
    await atApproval(terminated);
    expect((await post(`${instancePath(terminated)}/terminate`)).body.status).toBe("terminated");
    await logUnchanged(terminated, async () => {
      const message = expectError(await post(`${instancePath(terminated)}/events`, { type: "approve" }), 409, "instance.finished");
      expect(message).toContain("terminated");
    });
  });

  it("refuses a restart from a step that history does not show", async () => {
    const id = "bad-restart";
    await atApproval(id);
    await logUnchanged(id, async () => {
      const message = expectError(await post(`${instancePath(id)}/restart`, { from: "0.gated.z#1" }), 409, "instance.cannot_restart");
      expect(message).toContain("0.gated.z#1");
      // A key that exists but never started a step, and the wrong kind of value.
      expectError(await post(`${instancePath(id)}/restart`, { from: "0.gated.c#2" }), 409, "instance.cannot_restart");
      expectError(await post(`${instancePath(id)}/restart`, { from: 3 }), 400, "restart.invalid_from");
    });
    expect((await statusOf(id)).value).toBe("approval");
  });

  it("creates a batch, reporting each refusal with its index", async () => {
    const existing = "batch-existing";
    await atApproval(existing);
    const answer = await post(`${instances()}/batch`, {
      instances: [
        { id: "batch-ok-1", params: { instance: "batch-ok-1" } },
        { id: existing, params: { instance: existing } },
        { id: "-bad", params: { instance: "x" } },
        { id: "batch-ok-2", params: { instance: "batch-ok-2" } },
        { id: "batch-ok-1", params: { instance: "batch-ok-1" } },
        { id: "batch-too-big", params: { blob: "x".repeat(MIB) } },
      ],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(207);
    expect(answer.body.created).toEqual([{ id: "batch-ok-1" }, { id: "batch-ok-2" }]);
    const errors = answer.body.errors as { index: number; id?: string; code: string; message: string }[];
    expect(errors.map(({ index, id, code }) => ({ index, id, code }))).toEqual([
      { index: 1, id: existing, code: "instance.already_exists" },
      { index: 2, id: "-bad", code: "instance.invalid_id" },
      { index: 4, id: "batch-ok-1", code: "instance.duplicate_in_batch" },
      { index: 5, id: "batch-too-big", code: "payload.too_large" },
    ]);
    for (const error of errors) expect(error.message.length).toBeGreaterThan(0);
    for (const id of ["batch-ok-1", "batch-ok-2"]) await waitFor(id, (s) => s.value === "approval", "the batch instance to run");
    expect((await history(existing))[0]!.data).toMatchObject({ params: { instance: existing } });
    expectError(await get(instancePath("batch-too-big")), 404, "instance.not_found");

    const all = await post(`${instances()}/batch`, { instances: [{ id: "batch-all-1", params: { instance: "batch-all-1" } }] });
    expect(all.status).toBe(201);
    expect(all.body).toEqual({ created: [{ id: "batch-all-1" }], errors: [] });

    expectError(await post(`${instances()}/batch`, { instances: [] }), 400, "batch.invalid");
    expectError(await post(`${instances()}/batch`, {}), 400, "batch.invalid");
    expectError(await post(`${instances()}/batch`, { instances: Array.from({ length: 101 }, (_, i) => ({ id: `batch-over-${i}` })) }), 400, "batch.invalid");
    expectError(await get(instancePath("batch-over-0")), 404, "instance.not_found");
  });
});

describe("the typed client over RPC", () => {
  /** Calls `work` and returns what it threw. */
  async function refusal(work: () => Promise<unknown>): Promise<DurableMachinesError> {
    try {
      await work();
    } catch (error) {
      expect(error).toBeInstanceOf(DurableMachinesError);
      expect(error).toBeInstanceOf(Error);
      return error as DurableMachinesError;
    }
    throw new Error("expected a refusal");
  }

  it("revives each refusal as its class, with its code and message, after the Durable Object boundary", async () => {
    const gated = client().workflow("gated");
    const id = "rpc-errors";
    const instance = await gated.create({ id, params: { instance: id } });
    await until(() => instance.status(), (s) => s.value === "approval", `${id} at approval`);

    const exists = await refusal(() => gated.create({ id, params: { instance: id } }));
    expect(exists).toBeInstanceOf(InstanceExistsError);
    expect(exists.code).toBe("instance.already_exists");
    expect(exists.message).toContain(id);
    expect(exists.name).toBe("InstanceExistsError");

    const missing = await refusal(() => gated.get("rpc-missing"));
    expect(missing).toBeInstanceOf(InstanceNotFoundError);
    expect(missing.code).toBe("instance.not_found");
    expect(missing.message).toContain("rpc-missing");

    const cannotResume = await refusal(() => instance.resume());
    expect(cannotResume).toBeInstanceOf(InvalidOperationError);
    expect(cannotResume.code).toBe("instance.cannot_resume");

    const cannotRestart = await refusal(() => instance.restart({ from: "0.gated.z#1" }));
    expect(cannotRestart).toBeInstanceOf(InvalidOperationError);
    expect(cannotRestart.code).toBe("instance.cannot_restart");

    const badEvent = await refusal(() => instance.sendEvent({ type: "xstate.done.actor.x" }));
    expect(badEvent).toBeInstanceOf(InvalidEventError);
    expect(badEvent.code).toBe("event.invalid");

    const before = await instance.history();
    await instance.terminate();
    expect((await instance.status()).status).toBe("terminated");

    const finished = await refusal(() => instance.sendEvent({ type: "approve" }));
    expect(finished).toBeInstanceOf(InstanceFinishedError);
    expect(finished.code).toBe("instance.finished");
    expect(finished.message).toContain("terminated");

    const cannotTerminate = await refusal(() => instance.terminate());
    expect(cannotTerminate).toBeInstanceOf(InvalidOperationError);
    expect(cannotTerminate.code).toBe("instance.cannot_terminate");

    // The refusals wrote nothing: the log is the one before, plus the one terminate record.
    const after = await instance.history();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((r) => r.type)).toEqual(["instance.terminated"]);
  });

  it("refuses bad input on the Worker's side with the same classes", async () => {
    const gated = client().workflow("gated");
    const badId = await refusal(() => gated.create({ id: "-x" }));
    expect(badId).toBeInstanceOf(InvalidInstanceIdError);
    expect(badId.code).toBe("instance.invalid_id");

    const big = await refusal(() => gated.create({ id: "rpc-big", params: { instance: "x".repeat(MIB) } }));
    expect(big).toBeInstanceOf(PayloadTooLargeError);
    expect(big.code).toBe("payload.too_large");
    expect((await refusal(() => gated.get("rpc-big"))).code).toBe("instance.not_found");

    const unknown = await refusal(async () => client().workflow("nope"));
    expect(unknown).toBeInstanceOf(UnknownWorkflowError);
    expect(unknown.code).toBe("workflow.not_found");

    const { created, errors } = await gated.createBatch({ instances: [{ id: "rpc-batch-1", params: { instance: "rpc-batch-1" } }, { id: "rpc-errors" }] });
    expect(created.map((instance) => instance.id)).toEqual(["rpc-batch-1"]);
    expect(errors).toEqual([{ index: 1, id: "rpc-errors", code: "instance.already_exists", message: expect.stringContaining("rpc-errors") }]);
  });
});

describe("the dashboard's API: counts, delete all, batches, step history, restart from a step, terminate with rollback", () => {
  const bookingPath = (id: string) => instancePath(id, "booking");
  const ZERO = { queued: 0, running: 0, paused: 0, errored: 0, terminated: 0, complete: 0, waiting: 0, waitingForPause: 0, rollingBack: 0, unknown: 0 };

  async function createBooking(id: string, params: Record<string, unknown> = {}): Promise<void> {
    const answer = await post(instances("booking"), { id, params });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }

  /** A booking waiting for its approval: the retry, the parallel steps and the sleep are behind it. */
  const atBookingApproval = (id: string) =>
    until(() => history(id, "booking"), (log) => log.some((r) => r.type === "wait.started"), `${id} waiting for approval`);

  const bookingStatus = (id: string, status: string) => until(async () => (await get(bookingPath(id))).body, (body) => body.status === status, `${id} ${status}`);

  async function approved(id: string, params: Record<string, unknown> = {}): Promise<void> {
    await createBooking(id, params);
    await atBookingApproval(id);
    expect((await post(`${bookingPath(id)}/events`, { type: "approve", payload: { by: "Ada" } })).status).toBe(202);
    await bookingStatus(id, params.fail ? "errored" : "complete");
  }

  const steps = async (id: string, workflow = "booking") => {
    const answer = await get(`${instancePath(id, workflow)}/steps`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.steps as Body[];
  };
  const outline = (list: Body[]) => list.map((s) => [s.kind, s.name, s.count]);

  it("counts instances per status, deletes every instance of a workflow, and then the ids can be used again", async () => {
    expect((await api("DELETE", instances("booking"))).status).toBe(200);
    expect(await get("/workflows/booking")).toEqual({ status: 200, body: { name: "booking", counts: ZERO } });

    const ids = ["count-1", "count-2", "count-3"];
    for (const id of ids.slice(0, 2)) {
      await createBooking(id);
      await atBookingApproval(id);
    }
    await approved(ids[2]!);
    const counted = await until(
      () => get("/workflows/booking"),
      (answer) => answer.body.counts.waiting === 2 && answer.body.counts.complete === 1,
      "the registry to count two waiting and one complete",
    );
    expect(counted.body.counts).toEqual({ ...ZERO, waiting: 2, complete: 1 });

    expectError(await get("/workflows/nope"), 404, "workflow.not_found");
    expectError(await api("DELETE", instances("nope")), 404, "workflow.not_found");
    expect((await get(bookingPath("count-1"))).status).toBe(200);

    const deleted = await api("DELETE", instances("booking"));
    expect(deleted).toEqual({ status: 200, body: { deleted: 3 } });
    for (const id of ids) expectError(await get(bookingPath(id)), 404, "instance.not_found");
    expect((await get(instances("booking"))).body).toEqual({ instances: [] });
    expect((await get("/workflows/booking")).body.counts).toEqual(ZERO);
    expect(await api("DELETE", instances("booking"))).toEqual({ status: 200, body: { deleted: 0 } });

    await createBooking("count-1");
    await atBookingApproval("count-1");
    expect((await history("count-1", "booking")).filter((r) => r.type === "instance.created")).toHaveLength(1);
  });

  it("creates `count` instances in a batch, and deletes a batch by ids, reporting each refusal by id", async () => {
    const made = await post(`${instances("booking")}/batch`, { count: 2, params: {} });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.errors).toEqual([]);
    const [first, second] = (made.body.created as { id: string }[]).map(({ id }) => id) as [string, string];
    for (const id of [first, second]) await atBookingApproval(id);
    expectError(await post(`${instances("booking")}/batch`, { count: 0 }), 400, "batch.invalid");
    expectError(await post(`${instances("booking")}/batch`, { count: 101 }), 400, "batch.invalid");

    const keep = "batch-delete-keep";
    await createBooking(keep);
    await atBookingApproval(keep);
    await logUnchanged(
      keep,
      async () => {
        for (const refused of [{}, { ids: [] }, { ids: keep }, { ids: Array.from({ length: 101 }, () => keep) }]) {
          expectError(await post(`${instances("booking")}/batch/delete`, refused), 400, "batch.invalid");
        }
        expectError(await post(`${instances("nope")}/batch/delete`, { ids: [keep] }), 404, "workflow.not_found");
      },
      "booking",
    );

    const partly = await post(`${instances("booking")}/batch/delete`, { ids: [first, "batch-delete-missing", first, "-bad"] });
    expect(partly.status).toBe(207);
    expect(partly.body.deleted).toEqual([{ id: first }, { id: first }]);
    expect((partly.body.errors as Body[]).map(({ id, code }) => ({ id, code }))).toEqual([
      { id: "batch-delete-missing", code: "instance.not_found" },
      { id: "-bad", code: "instance.invalid_id" },
    ]);
    expectError(await get(bookingPath(first)), 404, "instance.not_found");

    expect(await post(`${instances("booking")}/batch/delete`, { ids: [second] })).toEqual({ status: 200, body: { deleted: [{ id: second }], errors: [] } });
    expectError(await get(bookingPath(second)), 404, "instance.not_found");
    expect((await get(bookingPath(keep))).status).toBe(200);
  });

  it("shows a code-first instance's steps: kinds, attempts, config, a sensitive output [REDACTED], the rollback steps", async () => {
    const id = "steps-declined";
    await approved(id, { fail: true });
    const answer = await get(`${bookingPath(id)}/steps`);
    expect(JSON.stringify(answer.body)).not.toContain("s3cr3t");
    const list = answer.body.steps as Body[];
    expect(outline(list)).toEqual([...BOOKING_STEPS, ...BOOKING_ROLLBACKS]);
    const [mint, reserve, , , , approval, charge, undoCharge, undoReserve] = list as Body[];
    expect(mint).toMatchObject({ key: "do:mint token-1", output: "[REDACTED]", success: true, restartable: true, config: { sensitive: "output" } });
    expect(reserve!.attempts.map((a: Body) => [a.attempt, a.success, a.error?.message ?? null])).toEqual([
      [1, false, "seat map busy"],
      [2, true, null],
    ]);
    expect(reserve!.config).toEqual({ retries: { limit: 2, backoff: "constant", delay: 50 }, timeout: "10 minutes" });
    expect(approval!.output).toMatchObject({ type: "approve", payload: { by: "Ada" } });
    expect(charge).toMatchObject({ success: false, error: { name: "NonRetryableError", message: "card declined" } });
    expect(undoCharge).toMatchObject({ key: "do:charge card-1", success: true, restartable: false });
    expect(undoReserve).toMatchObject({ key: "do:reserve seat-1", success: true, restartable: false });
    expect(undoCharge!.start).toBeLessThanOrEqual(undoReserve!.start);
  });

  it("shows a machine's steps by actor, with the definition's config, and refuses unknown instances", async () => {
    const id = "steps-machine";
    await atApproval(id);
    const list = await steps(id, "gated");
    expect(outline(list.filter((s) => s.kind === "step"))).toEqual([
      ["step", "a", 1],
      ["step", "b", 1],
      ["step", "c", 1],
    ]);
    expect(list.find((s) => s.name === "b")).toMatchObject({ key: "0.gated.b#1", restartable: true, output: "b done", config: { retries: { limit: 2, delay: B_RETRY_DELAY, backoff: "constant" } } });
    expect(list.filter((s) => s.kind === "timer").map((s) => s.success)).toEqual([true, null]);
    expectError(await get(`${instancePath("steps-missing")}/steps`), 404, "instance.not_found");
    expectError(await get(`${instancePath(id, "nope")}/steps`), 404, "workflow.not_found");
  });

  it("restarts a code-first instance from a step named as Cloudflare names it; the steps before it stay as they were", async () => {
    const id = "restart-named";
    await approved(id);
    const before = await steps(id);
    await logUnchanged(
      id,
      async () => {
        expectError(await post(`${bookingPath(id)}/restart`, { from: { name: "nope" } }), 409, "instance.cannot_restart");
        expectError(await post(`${bookingPath(id)}/restart`, { from: { name: "notify", count: 3 } }), 409, "instance.cannot_restart");
        expectError(await post(`${bookingPath(id)}/restart`, { from: { name: "cool down" } }), 409, "instance.cannot_restart");
      },
      "booking",
    );
    const restarted = await post(`${bookingPath(id)}/restart`, { from: { name: "cool down", type: "sleep" } });
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    await atBookingApproval(id);
    const after = await until(() => steps(id), (list) => list.length === 6, "the restarted run to wait for approval");
    expect(after.slice(0, 4)).toEqual(before.slice(0, 4));
    expect(after[4]).toMatchObject({ kind: "sleep", name: "cool down", success: true });
    expect(after[4]!.start).toBeGreaterThanOrEqual(before.at(-1)!.end);
    expect(after[5]).toMatchObject({ kind: "waitForEvent", success: null });
  });

  it("terminates with rollback: the started steps' handlers run, and the step history shows them", async () => {
    const id = "terminate-rollback";
    await createBooking(id);
    await atBookingApproval(id);
    await logUnchanged(
      id,
      async () => {
        expectError(await post(`${bookingPath(id)}/terminate`, { rollback: "yes" }), 400, "request.invalid");
        expectError(await post(`${bookingPath(id)}/terminate`, { rollback: 1 }), 400, "request.invalid");
      },
      "booking",
    );
    expect((await post(`${bookingPath(id)}/terminate`, { rollback: true })).status).toBe(200);
    await bookingStatus(id, "terminated");
    const list = await steps(id);
    expect(outline(list.slice(-2))).toEqual([
      ["waitForEvent", "approval", 1],
      ["rollback", "reserve seat", 1],
    ]);
    expect(list.at(-2)).toMatchObject({ success: null, cancelled: true });
    expect(list.at(-1)).toMatchObject({ success: true });
    expect((await history(id, "booking")).find((r) => r.type === "rollback.started")!.data).toMatchObject({ trigger: "terminate" });
  });
});

describe("the event stream: subscribe() as Server-Sent Events", () => {
  interface Sse {
    id: number;
    event: Body;
  }

  /** Splits Server-Sent Events text into messages, checking each one's id is its event's eventId. */
  function parse(text: string): Sse[] {
    return text
      .split("\n\n")
      .filter(Boolean)
      .map((block) => {
        const lines = block.split("\n");
        const id = Number(lines.find((line) => line.startsWith("id: "))!.slice(4));
        const event = JSON.parse(lines.find((line) => line.startsWith("data: "))!.slice(6)) as Body;
        expect(event.eventId).toBe(id);
        return { id, event };
      });
  }

  const stream = (id: string, query = "", headers: Record<string, string> = AUTH) =>
    worker.fetch(new Request(`${BASE}${instancePath(id, "booking")}/events${query}`, { headers }));

  async function completedBooking(id: string): Promise<void> {
    expect((await post(instances("booking"), { id, params: {} })).status).toBe(201);
    await until(() => history(id, "booking"), (log) => log.some((r) => r.type === "wait.started"), `${id} waiting`);
    await post(`${instancePath(id, "booking")}/events`, { type: "approve" });
    await until(async () => (await get(instancePath(id, "booking"))).body.status, (status) => status === "complete", `${id} complete`);
  }

  it("sends every event with its eventId as the id, and ends after the terminal event", async () => {
    const id = "sse-complete";
    await completedBooking(id);
    const response = await stream(id);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const all = parse(await response.text());
    expect(all.map((m) => m.id)).toEqual(all.map((_, i) => i + 1));
    expect(all[0]!.event).toMatchObject({ type: "workflow_queued", instanceId: id });
    expect(all.at(-1)!.event.type).toBe("workflow_completed");
    expect(all.filter((m) => m.event.type === "step_completed" && m.event.stepName === "mint token-1").map((m) => m.event.output)).toEqual(["[REDACTED]"]);

    // The same events as subscribe() gives through the client.
    const subscription = await (await client().workflow("booking").get(id)).subscribe();
    const direct: unknown[] = [];
    for (let next = await subscription.next(); !next.done; next = await subscription.next()) direct.push(next.value);
    expect(all.map((m) => m.event)).toEqual(JSON.parse(JSON.stringify(direct)));
  });

  it("resumes after Last-Event-ID or ?cursor=, filters by type, and answers 204 when nothing is left", async () => {
    const id = "sse-resume";
    await completedBooking(id);
    const all = parse(await (await stream(id)).text());
    const last = all.at(-1)!.id;

    expect(parse(await (await stream(id, "", { ...AUTH, "last-event-id": "5" })).text())).toEqual(all.slice(5));
    expect(parse(await (await stream(id, "?cursor=5")).text())).toEqual(all.slice(5));
    // A reconnecting EventSource sends Last-Event-ID with the URL it first opened: the header wins.
    expect(parse(await (await stream(id, "?cursor=1", { ...AUTH, "last-event-id": "7" })).text())).toEqual(all.slice(7));

    const filtered = parse(await (await stream(id, "?filter=step_completed,workflow_completed")).text());
    expect(filtered).toEqual(all.filter((m) => ["step_completed", "workflow_completed"].includes(m.event.type as string)));
    expect(parse(await (await stream(id, "?filter=step_completed&filter=sleep_completed")).text())).toEqual(
      all.filter((m) => ["step_completed", "sleep_completed"].includes(m.event.type as string)),
    );

    const done = await stream(id, `?cursor=${last}`);
    expect(done.status).toBe(204);
    expect(await done.text()).toBe("");
  });

  it("streams a live instance as it runs, and ends when it completes", async () => {
    const id = "sse-live";
    expect((await post(instances("booking"), { id, params: {} })).status).toBe(201);
    // As a browser's client would open it where it cannot send the header: with a ticket for this path.
    const ticket = await post("/tickets", { path: `/api${instancePath(id, "booking")}/events` });
    expect(ticket.status).toBe(201);
    const response = await stream(id, `?ticket=${ticket.body.ticket}`, {});
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes('"wait_started"')) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += value;
    }
    expect(text).not.toContain("workflow_completed");
    await post(`${instancePath(id, "booking")}/events`, { type: "approve" });
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    const all = parse(text);
    expect(all.map((m) => m.id)).toEqual(all.map((_, i) => i + 1));
    expect(all.at(-1)!.event.type).toBe("workflow_completed");
  });

  it("refuses a bad cursor or filter, an unknown instance, a missing token or ticket and a token in the URL, before streaming", async () => {
    const id = "sse-refusals";
    await completedBooking(id);
    const refusal = async (response: Promise<Response>, status: number, code: string) => expectError(await reply(await response), status, code);
    await refusal(stream(id, "?cursor=-1"), 400, "subscription.invalid");
    await refusal(stream(id, "?cursor=two"), 400, "subscription.invalid");
    await refusal(stream(id, "", { ...AUTH, "last-event-id": "" }), 400, "subscription.invalid");
    await refusal(stream(id, "?filter=step_completed,nope"), 400, "subscription.invalid");
    await refusal(stream("sse-missing"), 404, "instance.not_found");
    await refusal(stream(id, "", {}), 401, "auth.invalid");
    await refusal(stream(id, "?ticket=wrong", {}), 401, "auth.invalid");
    await refusal(stream(id, "?token=test-token", {}), 400, "auth.token_in_query");
  });
});
