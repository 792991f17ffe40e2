import { describe, expect, it } from "vitest";
import { apiHost, expectError, WORKER_AUTH, type Reply } from "./api-host";

/**
 * The Python worker protocol over HTTP (docs/python-protocol.md), driven as a
 * worker drives it, through the app to the memory host on a manual clock:
 * claim, run()'s calls, heartbeats, release, and every refusal.
 */

const WORKFLOW = "/api/python/v1/workflows/pipeline";
const instancePath = (id: string, route: string) => `${WORKFLOW}/instances/${id}/${route}`;

function world() {
  const api = apiHost();
  const worker = (path: string, body: unknown) => api.call("POST", path, { body, headers: WORKER_AUTH });
  const claim = (waitMs = 0) => worker(`${WORKFLOW}/claim`, { protocol: 1, worker: "test/pid-1", waitMs });
  const calls = (id: string, lease: string, calls: unknown[]) => worker(instancePath(id, "calls"), { protocol: 1, lease, calls });
  const heartbeat = (id: string, lease: string, waitMs = 0) => worker(instancePath(id, "heartbeat"), { protocol: 1, lease, waitMs });
  const release = (id: string, lease: string) => worker(instancePath(id, "release"), { protocol: 1, lease });
  const create = async (id: string, params?: unknown) => expect((await api.post("/api/workflows/pipeline/instances", { id, params })).status).toBe(201);
  /** A claim that must be answered with a task: its lease. */
  const leased = async (id: string): Promise<string> => {
    const reply = await claim();
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.task.instanceId).toBe(id);
    return reply.body.task.lease as string;
  };
  return { api, worker, claim, calls, heartbeat, release, create, leased };
}

type Fixture = { settle(): Promise<void>; pythonArrivals(): number };

/** Sends a request that must wait on the clock: once it has reached the host and everything else has run, it is still unanswered. */
async function parked(api: Fixture, send: () => Promise<Reply>): Promise<{ answer: Promise<Reply> }> {
  const before = api.pythonArrivals();
  const reply = send();
  // Not a count of turns: the token check's hashing comes back from Node's thread pool whenever it is done.
  for (let turn = 0; api.pythonArrivals() === before; turn++) {
    if (turn > 100_000) throw new Error("the request never reached the host");
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return stillWaiting(api, reply);
}

/** Checks that a request is still unanswered once everything else has run (it waits on the clock); its answer to come. */
async function stillWaiting(api: Fixture, reply: Promise<Reply>): Promise<{ answer: Promise<Reply> }> {
  let answered = false;
  void reply.then(() => (answered = true));
  await api.settle();
  expect(answered, "the request should wait").toBe(false);
  // Wrapped: an async function returning the promise itself would wait for it.
  return { answer: reply };
}

describe("the Python worker routes", () => {
  it("serve a whole pass: claim, a step told to run, its result recorded, run()'s end completing the instance", async () => {
    const { api, claim, calls, heartbeat, create } = world();
    await create("a1", { table: "t" });
    const claimed = await claim();
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({
      protocol: 1,
      task: { workflow: "pipeline", instanceId: "a1", leaseMs: 10_000, event: { payload: { json: { table: "t" } }, instanceId: "a1", workflowName: "pipeline", timestamp: 1_000_000 } },
    });
    const { lease } = claimed.body.task;
    expect((await claim()).status, "one worker per pass: the next claim finds nothing").toBe(204);

    const step = await calls("a1", lease, [{ type: "step", name: "rows", config: { retries: { limit: 0, delay: 0 } } }]);
    expect(step.status).toBe(200);
    expect(step.body).toEqual({
      answers: [{ key: "do:rows-1", run: { attempt: 1, timeoutMs: 600_000, ctx: { step: { name: "rows", count: 1 }, attempt: 1, config: { retries: { limit: 0, backoff: "exponential", delay: 0 }, timeout: "10 minutes" } } } }],
      work: [],
      end: false,
      live: { steps: 10_000 - 1 },
    });
    const beat = await heartbeat("a1", lease);
    expect(beat.body).toEqual({ work: [], end: false, leaseMs: 10_000 });
    const result = await calls("a1", lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: [1, 2] } }]);
    expect(result.body.answers).toEqual([{ key: "do:rows-1", value: { json: [1, 2] } }]);
    const end = await calls("a1", lease, [{ type: "completed", output: { json: { count: 2 } } }]);
    expect(end.body).toEqual({ answers: [{ ok: true }], work: [], end: true });

    expect((await api.get("/api/workflows/pipeline/instances/a1")).body).toMatchObject({ status: "complete", output: { count: 2 } });
    expectError(await heartbeat("a1", lease), 409, "lease.lost", expect);
  });

  it("answer a call the kernel refuses (a step name over 256 characters) in its answer, for run() to raise, as the TypeScript form throws", async () => {
    const { calls, create, leased } = world();
    await create("a2");
    const lease = await leased("a2");
    const reply = await calls("a2", lease, [{ type: "step", name: "n".repeat(300) }]);
    expect(reply.status).toBe(200);
    expect(reply.body.answers).toEqual([{ refused: { name: "WorkflowFatalError", message: expect.stringContaining("exceeds max length (256 chars)") } }]);
  });

  it("hold a heartbeat until a retry comes due, and answer it with the attempt to run", async () => {
    const { api, calls, heartbeat, create, leased } = world();
    await create("a3");
    const lease = await leased("a3");
    await calls("a3", lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]);
    const failed = await calls("a3", lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    expect(failed.body.answers).toEqual([{ key: "do:flaky-1", pending: true }]);

    const waiting = await parked(api, () => heartbeat("a3", lease, 20_000));
    api.clock.advance(1000);
    const beat = await waiting.answer;
    expect(beat.status).toBe(200);
    expect(beat.body).toEqual({ work: [{ type: "run", key: "do:flaky-1", attempt: expect.objectContaining({ attempt: 2 }) }], end: false, leaseMs: 10_000 });
  });

  it("hold a heartbeat no longer than half the lease when nothing comes", async () => {
    const { api, heartbeat, create, leased } = world();
    await create("a4");
    const lease = await leased("a4");
    const waiting = await parked(api, () => heartbeat("a4", lease, 20_000));
    api.clock.advance(4_999);
    await stillWaiting(api, waiting.answer);
    api.clock.advance(1);
    expect((await waiting.answer).body).toEqual({ work: [], end: false, leaseMs: 10_000 });
  });

  it("hold a claim until an instance wants a worker, and answer 204 when none does within waitMs", async () => {
    const { api, claim, create } = world();
    const idle = await parked(api, () => claim(1_000));
    api.clock.advance(1_000);
    const nothing = await idle.answer;
    expect(nothing.status).toBe(204);
    expect(nothing.text).toBe("");

    const waiting = await parked(api, () => claim(20_000));
    await create("a5");
    const claimed = await waiting.answer;
    expect(claimed.status).toBe(200);
    expect(claimed.body.task.instanceId).toBe("a5");
  });

  it("release a pass that can only wait: the old lease is lost, and the instance is claimed again when its timer fires", async () => {
    const { api, claim, calls, heartbeat, release, create, leased } = world();
    await create("a6");
    const lease = await leased("a6");
    expect((await calls("a6", lease, [{ type: "sleep", name: "nap", ms: 5000 }])).body.answers).toEqual([{ key: "sleep:nap-1", pending: true }]);
    const released = await release("a6", lease);
    expect(released.status).toBe(200);
    expect(released.body).toEqual({ work: [], end: true });
    expect((await claim()).status, "nothing new yet").toBe(204);
    for (const stale of [() => heartbeat("a6", lease), () => calls("a6", lease, [{ type: "sleep", name: "nap", ms: 5000 }]), () => release("a6", lease)]) {
      expect(expectError(await stale(), 409, "lease.lost", expect)).toContain("claim the workflow again");
    }

    api.clock.advance(5000);
    const again = await leased("a6");
    expect((await calls("a6", again, [{ type: "sleep", name: "nap", ms: 5000 }])).body.answers).toEqual([{ key: "sleep:nap-1", value: null }]);
  });

  it("refuse a lease that lapsed with 409 lease.lost, and give the instance to the next claim", async () => {
    const { api, calls, heartbeat, create, leased } = world();
    await create("a7");
    const first = await leased("a7");
    api.clock.advance(10_000);
    const second = await leased("a7");
    expectError(await heartbeat("a7", first), 409, "lease.lost", expect);
    expectError(await calls("a7", "made-up-lease", [{ type: "step", name: "rows" }]), 409, "lease.lost", expect);
    expect((await heartbeat("a7", second)).status).toBe(200);
  });

  it("refuse a workflow Python does not serve (409 workflow.not_python), an unknown one (404), and instances that are not there", async () => {
    const { api, worker } = world();
    expect((await api.post("/api/workflows/gate/instances", { id: "g1" })).status).toBe(201);
    await api.settle();
    const before = api.logs();
    const notPython = expectError(await worker("/api/python/v1/workflows/gate/claim", { protocol: 1, worker: "w" }), 409, "workflow.not_python", expect);
    expect(notPython).toContain("python");
    expectError(await worker("/api/python/v1/workflows/gate/instances/g1/heartbeat", { protocol: 1, lease: "x" }), 409, "workflow.not_python", expect);
    expectError(await worker("/api/python/v1/workflows/nope/claim", { protocol: 1, worker: "w" }), 404, "workflow.not_found", expect);
    expectError(await worker(instancePath("missing", "calls"), { protocol: 1, lease: "x", calls: [{ type: "step", name: "s" }] }), 404, "instance.not_found", expect);
    expectError(await worker(instancePath("-bad", "release"), { protocol: 1, lease: "x" }), 400, "instance.invalid_id", expect);
    expect(api.logs()).toBe(before);
  });

  it("refuse another protocol version, telling the worker to upgrade; nothing is claimed, renewed or recorded", async () => {
    const { api, worker, calls, create, leased } = world();
    await create("a8");
    await api.settle();
    const before = api.logs();
    for (const protocol of [2, 0, "1", null, undefined]) {
      const message = expectError(await worker(`${WORKFLOW}/claim`, { protocol, worker: "w" }), 400, "protocol.unsupported", expect);
      expect(message).toContain("version 1");
      expect(message).toContain("upgrade");
    }
    // A newer protocol's body may look nothing like this one's: the version is what is refused.
    expectError(await worker(`${WORKFLOW}/claim`, { protocol: 2, claimant: { id: 7 } }), 400, "protocol.unsupported", expect);
    const lease = await leased("a8");
    expectError(await worker(instancePath("a8", "calls"), { protocol: 2, lease, calls: [{ type: "completed" }] }), 400, "protocol.unsupported", expect);
    expect(api.logs()).toBe(before);
    expect((await calls("a8", lease, [{ type: "step", name: "rows" }])).status, "the lease still holds").toBe(200);
  });

  it("refuse bodies past their bounds before the engine sees them: no claim is taken, the lease holds, the log is unchanged", async () => {
    const { api, worker, create, leased } = world();
    await create("a9");
    await api.settle();
    const before = api.logs();
    const claims = [
      { protocol: 1 },
      { protocol: 1, worker: "" },
      { protocol: 1, worker: "w".repeat(257) },
      { protocol: 1, worker: "w", waitMs: 25_001 },
      { protocol: 1, worker: "w", waitMs: -1 },
      { protocol: 1, worker: "w", waitMs: "5" },
      { protocol: 1, worker: { toString: 1 } },
    ];
    for (const body of claims) expectError(await worker(`${WORKFLOW}/claim`, body), 400, "request.invalid", expect);
    expectError(await worker(`${WORKFLOW}/claim`, { protocol: 1, worker: "w".repeat(20_000) }), 413, "payload.too_large", expect);
    expect(api.logs()).toBe(before);

    const lease = await leased("a9");
    const step = { type: "step", name: "rows" };
    const error = { name: "Error", message: "m" };
    const refused: [string, unknown][] = [
      ["calls", { protocol: 1, lease, calls: [] }],
      ["calls", { protocol: 1, lease, calls: Array.from({ length: 1001 }, () => step) }],
      ["calls", { protocol: 1, lease, calls: "all" }],
      ["calls", { protocol: 1, lease: "l".repeat(257), calls: [step] }],
      ["calls", { protocol: 1, calls: [step] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "step", name: "n".repeat(1025) }] }],
      ["calls", { protocol: 1, lease, calls: [step, { type: "launch", name: "x" }] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "wait", name: "w", eventType: "e".repeat(1025) }] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "result", key: "do:rows-1", attempt: 1, ok: false }] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "result", key: "do:rows-1", attempt: 0, ok: true }] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "result", key: "do:rows-1", attempt: 1, ok: false, error: { name: "Error", message: "m".repeat(8193) } }] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "failed", error: { name: "E".repeat(257), message: "m" } }] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "sleep", name: "nap", ms: "5 seconds" }] }],
      ["calls", { protocol: 1, lease, calls: [{ type: "rollbackResult", key: "do:rows-1", attempt: 1.5, error }] }],
      ["heartbeat", { protocol: 1, lease, waitMs: 25_001 }],
      ["heartbeat", { protocol: 1, lease: 7 }],
      ["release", { protocol: 1 }],
      ["release", { protocol: 1, lease: "" }],
    ];
    for (const [route, body] of refused) expectError(await worker(instancePath("a9", route), body), 400, "request.invalid", expect);
    expectError(await worker(instancePath("a9", "calls"), `{"protocol":1,"lease":"${lease}","calls":[${`{"type":"completed","output":{"json":"${"x".repeat(1024 * 1024)}"}},`.repeat(8)}{"type":"completed"}]}`), 413, "payload.too_large", expect);
    expect(api.logs()).toBe(before);

    expect((await worker(instancePath("a9", "heartbeat"), { protocol: 1, lease })).status, "no refusal fenced the lease").toBe(200);
  });
});
