import { env, exports } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LogRecord } from "../index";
import { DAG_RETRY_DELAY, FANOUT_ITEMS } from "./dag-workflows";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * DAG workflows on the Durable Object host, with real SQLite and alarms,
 * driven once through the client and once through the HTTP API. Each run is
 * evicted in the middle: a task has failed once and waits a minute for its
 * retry, with the tasks beside it recorded, so nothing runs in the object and
 * the runtime can tear it down. The test then moves the clock past the retry
 * and rings the alarm, which brings it back; the ledger, outside the object,
 * counts how often each task's callback ran.
 */

const client = () => workflows.client(env);
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;
const runs = (id: string, what: string) => ledger().count(`${id}:${what}`);

interface Seen {
  status: string;
  value: unknown;
  output?: unknown;
}

/** How a test reaches an instance: create it, read its status and its whole log. */
interface Way {
  create(workflow: string, id: string, params: unknown): Promise<void>;
  status(workflow: string, id: string): Promise<Seen>;
  history(workflow: string, id: string): Promise<LogRecord[]>;
}

const throughClient: Way = {
  create: async (workflow, id, params) => void (await client().workflow(workflow).create({ id, params })),
  status: async (workflow, id) => (await client().workflow(workflow).get(id)).status(),
  history: async (workflow, id) => (await client().workflow(workflow).get(id)).history(),
};

const worker = (exports as unknown as { default: Fetcher }).default;
const instancePath = (workflow: string, id: string) => `/api/workflows/${workflow}/instances/${encodeURIComponent(id)}`;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await worker.fetch(`https://example.com${path}`, {
    method,
    headers: { authorization: "Bearer test-token", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.ok, `${method} ${path}: ${response.status}`).toBe(true);
  return (await response.json()) as T;
}

const throughHttp: Way = {
  create: async (workflow, id, params) => void (await api("POST", `/api/workflows/${workflow}/instances`, { id, params })),
  status: (workflow, id) => api<Seen>("GET", instancePath(workflow, id)),
  history: async (workflow, id) => {
    const records: LogRecord[] = [];
    for (;;) {
      const page = await api<{ records: LogRecord[] }>("GET", `${instancePath(workflow, id)}/history?after=${records.at(-1)?.seq ?? 0}`);
      if (!page.records.length) return records;
      records.push(...page.records);
    }
  },
};

const ways: [string, Way][] = [
  ["the Durable Object host, through the client", throughClient],
  ["the HTTP API", throughHttp],
];

const ofType = <T extends LogRecord["type"]>(log: LogRecord[], type: T) => log.filter((r) => r.type === type) as LogRecord<T>[];
const attempts = (log: LogRecord[], type: "step.started" | "step.succeeded" | "step.attempt_failed") =>
  ofType(log, type).map((r) => `${(r.data as { key: string }).key}@${(r.data as { attempt: number }).attempt}`);
const seqOf = (log: LogRecord[], type: LogRecord["type"], key: string) => log.find((r) => r.type === type && (r.data as { key?: string }).key === key)!.seq;

/** Waits, through `way`, until the instance sits idle with a retry pending as `idle` describes it. */
async function idleWith(way: Way, workflow: string, id: string, idle: (log: LogRecord[]) => boolean, what: string): Promise<void> {
  await until(async () => ({ status: await way.status(workflow, id), log: await way.history(workflow, id) }), ({ status, log }) => status.status === "waiting" && idle(log), `${workflow}/${id}: ${what}`);
}

/** Evicts the idle object, then lets it finish. */
async function evictAndFinish(way: Way, workflow: string, id: string): Promise<Seen> {
  await evictDurableObject(objectOf(workflow, id));
  return finish(way, workflow, id);
}

/** Moves the clock past the retry and rings the alarm, as the runtime would, until the instance has ended. */
async function finish(way: Way, workflow: string, id: string): Promise<Seen> {
  skipAhead(DAG_RETRY_DELAY);
  const read = async () => {
    await runDurableObjectAlarm(objectOf(workflow, id));
    return way.status(workflow, id);
  };
  return until(read, (s) => ["complete", "errored", "terminated"].includes(s.status), `${workflow}/${id} to end`, 200);
}

/** Every record once, in order: seq 1, 2, 3… from the creation to the completion. */
function expectWholeLog(log: LogRecord[], output: unknown): void {
  expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
  expect(log[0]!.type).toBe("instance.created");
  expect(log.at(-1)).toMatchObject({ type: "instance.completed", data: { output } });
}

describe.each(ways)("a diamond DAG on %s, evicted while a task waits for its retry", (how, way) => {
  it("b and c run once a is recorded, d once both are; after the eviction only c's retry and d run", async () => {
    const id = `dag-diamond-${how.includes("HTTP") ? "http" : "rpc"}`;
    await way.create("dag-diamond", id, { instance: id });
    await idleWith(way, "dag-diamond", id, (log) => attempts(log, "step.succeeded").includes("b#1@1") && attempts(log, "step.attempt_failed").includes("c#1@1"), "b recorded, c's retry pending");
    expect(await way.status("dag-diamond", id)).toMatchObject({ status: "waiting", value: { a: "done", b: "done", c: "running", d: "pending" } });
    expect([await runs(id, "a"), await runs(id, "b"), await runs(id, "c"), await runs(id, "d")]).toEqual([1, 1, 1, 0]);

    const output = { a: 3, b: 6, c: 13, d: 78 };
    expect(await evictAndFinish(way, "dag-diamond", id)).toMatchObject({ status: "complete", output, value: { a: "done", b: "done", c: "done", d: "done" } });
    // a and b, recorded before the eviction, never ran again; c ran its retry; d ran once.
    expect([await runs(id, "a"), await runs(id, "b"), await runs(id, "c"), await runs(id, "d")]).toEqual([1, 1, 2, 1]);

    const log = await way.history("dag-diamond", id);
    expectWholeLog(log, output);
    expect(attempts(log, "step.started")).toEqual(["a#1@1", "b#1@1", "c#1@1", "c#1@2", "d#1@1"]);
    expect(attempts(log, "step.succeeded")).toEqual(["a#1@1", "b#1@1", "c#1@2", "d#1@1"]);
    expect(ofType(log, "step.attempt_failed").map((r) => ({ key: r.data.key, attempt: r.data.attempt, message: r.data.error.message, wait: r.data.retryAt! - r.at }))).toEqual([
      { key: "c#1", attempt: 1, message: "c failed once", wait: DAG_RETRY_DELAY },
    ]);
    // b and c started together, both after a; d only after both had succeeded.
    expect(seqOf(log, "step.started", "b#1")).toBeGreaterThan(seqOf(log, "step.succeeded", "a#1"));
    expect(seqOf(log, "step.started", "c#1")).toBeLessThan(seqOf(log, "step.succeeded", "b#1"));
    expect(seqOf(log, "step.started", "d#1")).toBeGreaterThan(log.findLast((r) => r.type === "step.succeeded" && r.data.key === "c#1")!.seq);
  });
});

describe.each(ways)("a fan-out DAG on %s, evicted while its last item waits for its retry", (how, way) => {
  it("maps the list two at a time, in input order; after the eviction only the last item's retry and the join run", async () => {
    const id = `dag-fanout-${how.includes("HTTP") ? "http" : "rpc"}`;
    const last = FANOUT_ITEMS.at(-1)!;
    await way.create("dag-fanout", id, { instance: id });
    await idleWith(way, "dag-fanout", id, (log) => ofType(log, "step.succeeded").length === FANOUT_ITEMS.length && ofType(log, "step.attempt_failed").length === 1, "four items recorded, the last one's retry pending");
    expect(await way.status("dag-fanout", id)).toMatchObject({ status: "waiting", value: { list: "done", join: "pending" } });
    for (const item of FANOUT_ITEMS) expect(await runs(id, `upper ${item}`)).toBe(1);

    const output = { upper: FANOUT_ITEMS.map((item) => item.toUpperCase()), join: "ANT-BEE-CAT-DOG-EEL" };
    expect(await evictAndFinish(way, "dag-fanout", id)).toMatchObject({ status: "complete", output, value: { list: "done", upper: "done", join: "done" } });
    expect(await runs(id, "list")).toBe(1);
    for (const item of FANOUT_ITEMS) expect(await runs(id, `upper ${item}`), item).toBe(item === last ? 2 : 1);
    expect(await runs(id, "join")).toBe(1);

    const log = await way.history("dag-fanout", id);
    expectWholeLog(log, output);
    const items = ofType(log, "step.succeeded").filter((r) => r.data.key.startsWith("upper."));
    // One result per item, each from one of the two slots: never more than two items at once.
    expect(items.map((r) => r.data.output).sort()).toEqual(output.upper);
    for (const r of items) expect(r.data.key).toMatch(/^upper\.slot[01]#\d$/);
    const [failure] = ofType(log, "step.attempt_failed");
    expect(failure!.data).toMatchObject({ attempt: 1, error: { message: `${last} failed once` } });
    expect(items.find((r) => r.data.output === last.toUpperCase())!.data).toMatchObject({ key: failure!.data.key, attempt: 2 });
    expect(ofType(log, "step.started").filter((r) => r.data.key === failure!.data.key).map((r) => r.data.attempt)).toEqual([1, 2]);
    expect(attempts(log, "step.started").filter((key) => !key.startsWith("upper."))).toEqual(["list#1@1", "join#1@1"]);
    expect(seqOf(log, "step.started", "join#1")).toBeGreaterThan(Math.max(...items.map((r) => r.seq)));
  });
});

describe("a diamond DAG on the Durable Object host, aborted while a task runs", () => {
  it("the task cut short runs again with a new attempt; a, recorded before the crash, does not", async () => {
    const id = "dag-diamond-aborted";
    const instance = await client().workflow("dag-diamond").create({ id, params: { instance: id, holdB: true } });
    await until(() => runs(id, "b"), (n) => n === 1, "b to start and hold");
    await runInDurableObject(objectOf("dag-diamond", id), (_object, state) => state.abort("crash injected by the test")).catch(() => undefined);
    // The aborted object's b is let go too late: its result has nowhere to go.
    await ledger().release(`${id}:b`);
    expect(await finish(throughClient, "dag-diamond", id)).toMatchObject({ status: "complete", output: { a: 3, b: 6, c: 13, d: 78 } });
    expect([await runs(id, "a"), await runs(id, "b"), await runs(id, "c"), await runs(id, "d")]).toEqual([1, 2, 2, 1]);
    const log = await instance.history();
    expectWholeLog(log, { a: 3, b: 6, c: 13, d: 78 });
    expect(attempts(log, "step.succeeded").sort()).toEqual(["a#1@1", "b#1@2", "c#1@2", "d#1@1"]);
    expect(attempts(log, "step.started").filter((key) => !key.startsWith("c#1"))).toEqual(["a#1@1", "b#1@1", "b#1@2", "d#1@1"]);
  });
});
