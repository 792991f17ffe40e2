import { describe, expect, it, vi } from "vitest";
import type { MemoryHost, WorkflowClient } from "../../../../index";
import { BOOKING_DELAY_MS, BOOKING_ROLLBACKS, BOOKING_STEPS } from "../../../../test/booking";
import { apiHost, AUTH, expectError, type ApiHostFixture } from "./api-host";

const gates = "/api/workflows/gate/instances";
const bookings = "/api/workflows/booking/instances";
const ZERO = { queued: 0, running: 0, paused: 0, errored: 0, terminated: 0, complete: 0, waiting: 0, waitingForPause: 0, rollingBack: 0, unknown: 0 };

async function gateAt(api: ApiHostFixture, id: string): Promise<void> {
  expect((await api.post(gates, { id })).status).toBe(201);
  await api.settle();
  expect((await api.get(`${gates}/${id}`)).body).toEqual({ id, status: "waiting", value: "approval" });
}

/** A booking past its retry and its sleep, waiting for approval. */
async function bookingAt(api: ApiHostFixture, id: string, params: Record<string, unknown> = {}): Promise<void> {
  expect((await api.post(bookings, { id, params })).status).toBe(201);
  for (let i = 0; i < 3; i++) {
    await api.settle();
    api.clock.advance(BOOKING_DELAY_MS);
  }
  await api.settle();
  const history = (await api.get(`${bookings}/${id}/history`)).body.records as { type: string }[];
  expect(history.some((r) => r.type === "wait.started")).toBe(true);
}

describe("the lifecycle over HTTP, with the JSON shapes clients and the dashboard rely on", () => {
  it("creates, reads the status, sends an event, completes; a finished instance refuses events, resume and terminate with 409", async () => {
    const api = apiHost();
    const created = await api.post(gates, { id: "g1", params: { n: 1 } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: "g1", status: "running", value: "preparing" });
    await api.settle();
    const sent = await api.post(`${gates}/g1/events`, { type: "approve", payload: { by: "ada" }, idempotencyKey: "k1" });
    expect(sent.status).toBe(202);
    expect(sent.body.id).toBe("g1");
    await api.settle();
    expect((await api.get(`${gates}/g1`)).body).toEqual({ id: "g1", status: "complete", value: "done", output: { approval: { by: "ada" } } });
    const before = api.logs();
    expectError(await api.post(`${gates}/g1/events`, { type: "approve" }), 409, "instance.finished", expect);
    expectError(await api.post(`${gates}/g1/resume`), 409, "instance.cannot_resume", expect);
    expectError(await api.post(`${gates}/g1/terminate`), 409, "instance.cannot_terminate", expect);
    expectError(await api.post(gates, { id: "g1" }), 409, "instance.already_exists", expect);
    // Pause of a finished instance leaves it as it is, as Cloudflare's engines do.
    expect(await api.post(`${gates}/g1/pause`)).toMatchObject({ status: 200, body: { id: "g1", status: "complete" } });
    expect(api.logs()).toBe(before);
  });

  it("pauses, resumes, terminates and restarts from a step key; unknown steps are 409 instance.cannot_restart", async () => {
    const api = apiHost();
    await gateAt(api, "g1");
    const paused = await api.post(`${gates}/g1/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual({ id: "g1", status: "paused", value: "approval" });
    expect((await api.post(`${gates}/g1/resume`, {})).body.status).toBe("waiting");
    expect((await api.post(`${gates}/g1/terminate`, { rollback: false })).body.status).toBe("terminated");
    const before = api.logs();
    expectError(await api.post(`${gates}/g1/restart`, { from: "0.gate.nowhere#1" }), 409, "instance.cannot_restart", expect);
    expect(api.logs()).toBe(before);
    const restarted = await api.post(`${gates}/g1/restart`, { from: "0.gate.preparing#1" });
    expect(restarted.status, restarted.text).toBe(200);
    await api.settle();
    expect((await api.get(`${gates}/g1`)).body.value).toBe("approval");
  });

  it("deletes an instance, and then its id is free", async () => {
    const api = apiHost();
    await gateAt(api, "g1");
    expect(await api.call("DELETE", `${gates}/g1`)).toMatchObject({ status: 200, body: { id: "g1", deleted: true } });
    expectError(await api.get(`${gates}/g1`), 404, "instance.not_found", expect);
    expectError(await api.call("DELETE", `${gates}/g1`), 404, "instance.not_found", expect);
    expect((await api.post(gates, { id: "g1" })).status).toBe(201);
  });
});

describe("collections: names, counts, lists, batches", () => {
  it("names the workflows, counts per status, lists by status in pages, deletes all", async () => {
    const api = apiHost();
    expect((await api.get("/api/workflows")).body).toEqual({ workflows: ["gate", "booking", "pipeline"] });
    for (const id of ["a", "b", "c"]) await gateAt(api, id);
    await api.post(`${gates}/c/events`, { type: "approve" });
    await api.settle();
    expect((await api.get("/api/workflows/gate")).body).toEqual({ name: "gate", counts: { ...ZERO, waiting: 2, complete: 1 } });

    // Created in the same millisecond of the manual clock: newest first by default, the ids breaking the tie.
    expect((await api.get(`${gates}?status=waiting`)).body.instances.map((i: { id: string }) => i.id)).toEqual(["b", "a"]);
    const first = await api.get(`${gates}?limit=2`);
    expect(first.body.instances.map((i: { id: string }) => i.id)).toEqual(["c", "b"]);
    expect(first.body.cursor).toBe("newest:1000000:b");
    expect(Object.keys(first.body.instances[0]).sort()).toEqual(["createdAt", "id", "status", "updatedAt"]);
    const second = await api.get(`${gates}?limit=2&cursor=${first.body.cursor}`);
    expect(second.body).toEqual({ instances: [expect.objectContaining({ id: "a", status: "waiting" })] });
    const oldest = await api.get(`${gates}?limit=2&order=oldest`);
    expect(oldest.body.instances.map((i: { id: string }) => i.id)).toEqual(["a", "b"]);
    expect((await api.get(`${gates}?order=oldest&cursor=${oldest.body.cursor}`)).body.instances.map((i: { id: string }) => i.id)).toEqual(["c"]);
    expectError(await api.get(`${gates}?order=latest`), 400, "list.invalid_order", expect);
    expectError(await api.get(`${gates}?cursor=${first.body.cursor}&order=oldest`), 400, "list.invalid_cursor", expect);
    expectError(await api.get(`${gates}?cursor=b`), 400, "list.invalid_cursor", expect);

    expect(await api.call("DELETE", gates)).toMatchObject({ status: 200, body: { deleted: 3 } });
    expect((await api.get(gates)).body).toEqual({ instances: [] });
    expect((await api.get("/api/workflows/gate")).body.counts).toEqual(ZERO);
  });

  it("creates a batch, reporting each refusal with its index (207), or all (201); creates `count` with random ids", async () => {
    const api = apiHost();
    await gateAt(api, "taken");
    const mixed = await api.post(`${gates}/batch`, {
      instances: [{ id: "ok-1" }, { id: "taken" }, { id: "-bad" }, { id: "ok-2", params: { n: 2 } }, { id: "ok-1" }, { id: "too-big", params: "x".repeat(1024 * 1024) }],
    });
    expect(mixed.status).toBe(207);
    expect(mixed.body.created).toEqual([{ id: "ok-1" }, { id: "ok-2" }]);
    expect(mixed.body.errors.map(({ index, id, code }: Record<string, unknown>) => ({ index, id, code }))).toEqual([
      { index: 1, id: "taken", code: "instance.already_exists" },
      { index: 2, id: "-bad", code: "instance.invalid_id" },
      { index: 4, id: "ok-1", code: "instance.duplicate_in_batch" },
      { index: 5, id: "too-big", code: "payload.too_large" },
    ]);
    expect(await api.post(`${gates}/batch`, { instances: [{ id: "all-1" }] })).toMatchObject({ status: 201, body: { created: [{ id: "all-1" }], errors: [] } });
    const counted = await api.post(`${gates}/batch`, { count: 3, params: { n: 1 } });
    expect(counted.status).toBe(201);
    expect(counted.body.created).toHaveLength(3);
    expectError(await api.post(`${gates}/batch`, { count: 2, retention: { successRetention: 0 } }), 400, "retention.invalid", expect);
  });

  it("deletes a batch by ids: one entry per id given, 207 when some were refused", async () => {
    const api = apiHost();
    for (const id of ["a", "b"]) await gateAt(api, id);
    const partly = await api.post(`${gates}/batch/delete`, { ids: ["a", "missing", "a", "-bad"] });
    expect(partly.status).toBe(207);
    expect(partly.body.deleted).toEqual([{ id: "a" }, { id: "a" }]);
    expect(partly.body.errors.map(({ id, code }: Record<string, unknown>) => ({ id, code }))).toEqual([
      { id: "missing", code: "instance.not_found" },
      { id: "-bad", code: "instance.invalid_id" },
    ]);
    expect(await api.post(`${gates}/batch/delete`, { ids: ["b"] })).toMatchObject({ status: 200, body: { deleted: [{ id: "b" }], errors: [] } });
    expect(api.host.storage.all()).toEqual([]);
  });
});

describe("reading the log: history pages, the step history, the event stream", () => {
  it("pages the history with after and limit; next is there only when more records follow", async () => {
    const api = apiHost();
    await gateAt(api, "g1");
    await api.post(`${gates}/g1/events`, { type: "approve", payload: { secret: false } });
    await api.settle();
    const whole = await api.get(`${gates}/g1/history`);
    const records = whole.body.records as { seq: number; type: string }[];
    expect(whole.body).toEqual({ records });
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(records.at(-1)!.type).toBe("instance.completed");

    const paged: unknown[] = [];
    let after = 0;
    for (;;) {
      const page = await api.get(`${gates}/g1/history?after=${after}&limit=2`);
      paged.push(...page.body.records);
      if (page.body.next === undefined) break;
      expect(page.body.next).toBe(page.body.records.at(-1).seq);
      after = page.body.next;
    }
    expect(paged).toEqual(records);
    expect((await api.get(`${gates}/g1/history?after=${records.length}`)).body).toEqual({ records: [] });
    expect((await api.get(`${gates}/g1/history?after=1&limit=2`)).body).toEqual({ records: records.slice(1, 3), next: 3 });
  });

  it("shows a code-first instance's steps, a sensitive output [REDACTED], and its rollback steps", async () => {
    const api = apiHost();
    await bookingAt(api, "declined", { fail: true });
    expect((await api.post(`${bookings}/declined/events`, { type: "approve", payload: { by: "Ada" } })).status).toBe(202);
    await api.settle();
    const answer = await api.get(`${bookings}/declined/steps`);
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain("s3cr3t");
    expect(answer.body.steps.map((s: Record<string, unknown>) => [s.kind, s.name, s.count])).toEqual([...BOOKING_STEPS, ...BOOKING_ROLLBACKS]);
    expect(answer.body.steps[0]).toMatchObject({ key: "do:mint token-1", output: "[REDACTED]" });
    expect(answer.body.next).toBeUndefined();
    expectError(await api.get(`${bookings}/missing/steps`), 404, "instance.not_found", expect);
    // A page at a time: `next` is how many steps the pages so far held, there only when more follow.
    const paged: unknown[] = [];
    for (let after: number | undefined = 0; after !== undefined; ) {
      const page = await api.get(`${bookings}/declined/steps?after=${after}&limit=2`);
      expect(page.body.steps.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.steps);
      after = page.body.next;
    }
    expect(paged).toEqual(answer.body.steps);
    expect((await api.get(`${bookings}/declined/steps?after=${paged.length}`)).body).toEqual({ steps: [] });
    expectError(await api.get(`${bookings}/declined/steps?limit=0`), 400, "request.invalid_query", expect);
  });

  it("restarts a code-first instance from a step named as Cloudflare names it, and terminates one with rollback", async () => {
    const api = apiHost();
    await bookingAt(api, "named");
    expectError(await api.post(`${bookings}/named/restart`, { from: { name: "nope" } }), 409, "instance.cannot_restart", expect);
    expect((await api.post(`${bookings}/named/restart`, { from: { name: "cool down", type: "sleep" } })).status).toBe(200);
    await bookingAt(api, "rolled");
    expect((await api.post(`${bookings}/rolled/terminate`, { rollback: true })).status).toBe(200);
    await api.settle();
    const steps = (await api.get(`${bookings}/rolled/steps`)).body.steps as Record<string, unknown>[];
    expect(steps.at(-1)).toMatchObject({ kind: "rollback", name: "reserve seat", success: true });
  });

  it("streams the events as SSE with ids; resumes after Last-Event-ID or ?cursor=; 204 when finished with nothing left", async () => {
    const api = apiHost();
    await gateAt(api, "g1");
    await api.post(`${gates}/g1/events`, { type: "approve" });
    await api.settle();
    const parse = (text: string) => text.split("\n\n").filter(Boolean).map((block) => Number(/^id: (\d+)$/m.exec(block)![1]));
    const full = await api.send("GET", `${gates}/g1/events`);
    expect(full.status).toBe(200);
    expect(full.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await full.text();
    const ids = parse(text);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(text).toContain("workflow_completed");
    expect(parse(await (await api.send("GET", `${gates}/g1/events?cursor=2`)).text())).toEqual(ids.slice(2));
    expect(parse(await (await api.send("GET", `${gates}/g1/events`, { headers: { ...AUTH, "last-event-id": "3" } })).text())).toEqual(ids.slice(3));
    const done = await api.send("GET", `${gates}/g1/events?cursor=${ids.at(-1)}`);
    expect(done.status).toBe(204);
    expectError(await api.get(`${gates}/missing/events`), 404, "instance.not_found", expect);
  });
});

describe("the inspection socket, where the host has one", () => {
  it("forwards a WebSocket upgrade for an instance that exists; refuses anything else", async () => {
    const forwarded: string[] = [];
    const api = apiHost({ inspect: async (_env, workflow, id) => (forwarded.push(`${workflow}/${id}`), new Response(null, { status: 200 })) });
    await gateAt(api, "g1");
    expect((await api.call("GET", `${gates}/g1/inspect`, { headers: { ...AUTH, upgrade: "websocket" } })).status).toBe(200);
    expect(forwarded).toEqual(["gate/g1"]);
    expectError(await api.get(`${gates}/g1/inspect`), 426, "request.not_websocket", expect);
    expectError(await api.call("GET", `${gates}/missing/inspect`, { headers: { ...AUTH, upgrade: "websocket" } }), 404, "instance.not_found", expect);
    expect(forwarded).toEqual(["gate/g1"]);
  });

  it("does not exist where the host has none", async () => {
    const api = apiHost();
    await gateAt(api, "g1");
    expectError(await api.call("GET", `${gates}/g1/inspect`, { headers: { ...AUTH, upgrade: "websocket" } }), 404, "route.not_found", expect);
  });
});

describe("the unexpected: 500 internal, the stack logged, nothing of it sent", () => {
  it("answers a failure that is not a refusal with `internal`, and logs it", async () => {
    const failing = (host: MemoryHost) => ({
      workflow(name: string): WorkflowClient {
        return { ...host.workflow(name), counts: async () => Promise.reject(new Error("disk on fire at /secret/path")) };
      },
    });
    const api = apiHost({ client: failing });
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const reply = await api.get("/api/workflows/gate");
      expectError(reply, 500, "internal", expect);
      expect(reply.text).not.toContain("fire");
      expect(reply.text).not.toContain("/secret/path");
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0]!.at(-1))).toContain("disk on fire");
      expect((logged.mock.calls[0]!.at(-1) as Error).stack).toContain("routes.test.ts");
    } finally {
      logged.mockRestore();
    }
  });
});

describe("events an instance has not taken are bounded", () => {
  it("answers the 1,001st event no state takes with 409 event.too_many_waiting, the log as it was", async () => {
    const api = apiHost();
    await gateAt(api, "g1");
    for (let i = 0; i < 1000; i++) expect((await api.post(`${gates}/g1/events`, { type: "later" })).status).toBe(202);
    const before = api.logs();
    expectError(await api.post(`${gates}/g1/events`, { type: "later" }), 409, "event.too_many_waiting", expect);
    expect(api.logs()).toBe(before);
  });
});
