import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TERMINAL_EVENTS, type WorkflowInstanceEventType } from "../core/instance-events";
import { MAX_PAYLOAD_BYTES } from "../core/json";
import type { LogRecord } from "../core/records";
import type { InstanceStatusName } from "../core/status";
import { apiEndpoints, type ApiHost } from "../adapters/worker/api/app";
import { AUTH, TOKEN } from "../adapters/worker/api/tests/api-host";
import { describeTally, expectEveryEndpointReached, fuzzRequests, newTally, SEED, sendAll, type FuzzTarget, type FuzzWorld, type Recipe } from "../adapters/worker/api/tests/fuzz-requests";
import { WorkflowCatalog } from "../runtime/catalog";
import type { HistoryPage } from "../runtime/client";
import { unwrap, type Outcome } from "../runtime/wire";
import { gate, retryLater } from "./fuzz-workflows";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * The route fuzz of adapters/worker/api/tests/fuzz.test.ts, with the same
 * requests and checks (fuzz-requests.ts), sent through the test Worker's
 * fetch to the Durable Object host: arguments cross workerd's RPC to each
 * instance's object, logs are in SQLite, lists come from the registry
 * object. Every run starts from the same instances at rest: one that
 * changed, and every one a run created, is first read in full (status,
 * history pages, steps, its event stream), then evicted and read in full
 * again from SQLite, then deleted (and made again), so a shrunk run replays
 * from where the failing one started. A second world holds one large
 * instance.
 */

/**
 * About 25 s on a two-core machine (600 runs in 18 s, 80 on the large
 * instance in 7 s), more when it is busy; FUZZ_WORKERD_RUNS and
 * FUZZ_WORKERD_LARGE_RUNS set other numbers.
 */
const RUNS = Number(process.env.FUZZ_WORKERD_RUNS || 600);
const LARGE_RUNS = Number(process.env.FUZZ_WORKERD_LARGE_RUNS || 80);

const worker = (exports as unknown as { default: Fetcher }).default;
const client = () => workflows.client(env);
const ORIGIN = "https://example.com";

/** The endpoints the Worker serves: the inspection socket's included, as workerd's instance objects have one. */
const SERVED: ApiHost = { catalog: new WorkflowCatalog([gate, retryLater]), client, token: () => TOKEN, inspect: async () => new Response(null) };
const ENDPOINTS = apiEndpoints(SERVED, () => ({}));

/** Instances at rest in every state a route treats differently: a machine waiting, complete and paused; a code-first run between retries and waiting for an event. */
const WORLD: FuzzWorld = {
  instances: [
    ["gate", "g-wait"],
    ["gate", "g-done"],
    ["gate", "g-paused"],
    ["retry-later", "r-rest"],
    ["retry-later", "r-wait"],
  ],
  deletable: ["g-wait", "g-done", "r-rest", "missing"],
};
const REQUESTS = fuzzRequests(WORLD, ENDPOINTS);

type Key = `${string}/${string}`;
const keyOf = (workflow: string, id: string): Key => `${workflow}/${id}`;
const partsOf = (key: Key) => key.split("/") as [string, string];

/** Statuses in which an instance still has work under way: its log may grow without a request. */
const BUSY: readonly InstanceStatusName[] = ["queued", "running", "waitingForPause", "rollingBack"];
const FINISHED: readonly InstanceStatusName[] = ["complete", "errored", "terminated"];

/**
 * A world of one large instance: a gate waiting with five events of nearly
 * 1 MiB it does not take in its inbox, so that its log is read in two pages,
 * its snapshots are split across rows, and every request meets it.
 */
const LARGE_WORLD: FuzzWorld = { instances: [["gate", "g-full"]], deletable: ["g-full", "missing"] };
const LARGE_REQUESTS = fuzzRequests(LARGE_WORLD, ENDPOINTS);
const LARGE_EVENTS = 5;
/**
 * Each read of the large instance, run first and then among the generated runs: which generated requests reach a
 * read with the right token and a valid query depends on the seed, and on every route added since it was chosen.
 */
const LARGE_READS: [Recipe[]][] = ["history", "steps", "events"].map((tail) => [
  [{ method: "GET", template: `/api/workflows/{name}/instances/{id}/${tail}`, name: "gate", id: "g-full", query: [], auth: "valid", headers: [], body: undefined }],
]);

/** How each instance of the worlds is made and brought to rest. */
async function make(workflow: string, id: string): Promise<void> {
  const instances = client().workflow(workflow);
  const instance = await instances.create({ id, params: workflow === "gate" ? { id } : { busy: id === "r-rest" } });
  const atRest = (status: InstanceStatusName) => until(() => instance.status(), (now) => now.status === status, `${workflow}/${id} ${status}`);
  await atRest("waiting");
  if (id === "g-full") {
    for (let i = 0; i < LARGE_EVENTS; i++) await instance.sendEvent({ type: "go", payload: { i, text: "x".repeat(MAX_PAYLOAD_BYTES - 64) } });
  }
  if (id === "g-done") {
    await instance.sendEvent({ type: "approve", payload: { by: "fuzz" } });
    await atRest("complete");
  }
  if (id === "g-paused") {
    await instance.pause();
    await atRest("paused");
  }
}

/** An answer from an instance's object; undefined when it holds no instance. */
function found<T>(outcome: Outcome<T>): T | undefined {
  return !outcome.ok && outcome.error.code === "instance.not_found" ? undefined : unwrap(outcome);
}

/** An instance's whole log, read a page at a time as historyPage() reads it, straight from its object; undefined when there is no such instance. */
async function logOf(key: Key): Promise<LogRecord[] | undefined> {
  const [workflow, id] = partsOf(key);
  const records: LogRecord[] = [];
  for (let after: number | undefined = 0; after !== undefined; ) {
    const page: HistoryPage | undefined = found(await client().stub(workflow, id).history(workflow, id, { after }));
    if (!page) return undefined;
    records.push(...page.records);
    after = page.next;
  }
  return records;
}

async function statusOf(key: Key): Promise<InstanceStatusName | undefined> {
  const [workflow, id] = partsOf(key);
  return found(await client().stub(workflow, id).status(workflow, id))?.status;
}

/** Every instance the registry lists for a world's workflows, with the status it has for each. */
async function listed(world: FuzzWorld): Promise<Map<Key, InstanceStatusName>> {
  const seen = new Map<Key, InstanceStatusName>();
  const lists = [...new Set(world.instances.map(([name]) => name))].map(async (workflow) => {
    for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
      const page = await client().workflow(workflow).list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
      for (const { id, status } of page.instances) seen.set(keyOf(workflow, id), status);
      cursor = page.cursor;
    }
  });
  await Promise.all(lists);
  return seen;
}

const api = (path: string, headers: Record<string, string> = AUTH) => worker.fetch(new Request(`${ORIGIN}${path}`, { headers }));

/** Reads a stream to its end, failing if it has not ended within `ms`: a stream that never ends is the bug looked for. */
async function readToEnd(response: Response, ms: number, what: string): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms)));
  try {
    return await Promise.race([response.text(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** An instance is readable in full as its object holds it, and again once the object is evicted and loads it from SQLite. */
async function expectReadableAndReloaded(key: Key): Promise<void> {
  await expectReadable(key);
  await evictDurableObject(client().stub(...partsOf(key)) as unknown as DurableObjectStub);
  await expectReadable(key);
}

/**
 * An instance is readable in full over the API: its status, every page of
 * its history (the same records as the log), every page of its steps, and
 * its event stream, read to its end once the instance has finished (its
 * first event otherwise, as a live stream has no end). A depth-3,000 payload
 * once left an instance whose stream failed for good.
 */
async function expectReadable(key: Key): Promise<void> {
  const [workflow, id] = partsOf(key);
  const path = `/api/workflows/${encodeURIComponent(workflow)}/instances/${encodeURIComponent(id)}`;
  const status = await api(path);
  expect(status.status, `${key}: status`).toBe(200);
  const { status: name } = (await status.json()) as { status: InstanceStatusName };

  const pages: LogRecord[] = [];
  for (let after: number | undefined = 0; after !== undefined; ) {
    const page = await api(`${path}/history?after=${after}`);
    expect(page.status, `${key}: history after ${after}`).toBe(200);
    const body = (await page.json()) as { records: LogRecord[]; next?: number };
    pages.push(...body.records);
    after = body.next;
  }
  expect(JSON.stringify(pages), `${key}: the history pages are the log`).toBe(JSON.stringify(await logOf(key)));

  for (let after: number | undefined = 0; after !== undefined; ) {
    const page = await api(`${path}/steps?after=${after}`);
    expect(page.status, `${key}: steps after ${after}`).toBe(200);
    const body = (await page.json()) as { steps: unknown[]; next?: number };
    expect(Array.isArray(body.steps), `${key}: steps after ${after}`).toBe(true);
    after = body.next;
  }

  const stream = await api(`${path}/events`);
  if (FINISHED.includes(name)) {
    expect([200, 204], `${key}: event stream`).toContain(stream.status);
    const text = await readToEnd(stream, 10_000, `${key}'s event stream`);
    if (stream.status === 200) {
      const events = text.split("\n\n").filter(Boolean).map((message) => JSON.parse(message.split("\ndata: ")[1]!) as { type: WorkflowInstanceEventType });
      expect(TERMINAL_EVENTS, `${key}: the event stream ends with the run`).toContain(events.at(-1)?.type);
    }
  } else {
    expect(stream.status, `${key}: event stream`).toBe(200);
    const reader = stream.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value), `${key}: the event stream's first event`).toMatch(/^id: \d+\ndata: \{/);
    await reader.cancel();
  }
}

/**
 * The world in workerd: the instances it knows of, each one's log as it was
 * made, and the last snapshot of every log. Runs change it; each run starts
 * by putting it back.
 */
class World implements FuzzTarget {
  /** Every instance a request may have touched: the world's, and those accepted requests created. */
  private readonly known = new Set<Key>();
  /** Each world instance's log when it was made, as JSON. */
  private readonly made = new Map<Key, string>();
  /** Every known instance's log, as JSON, taken at rest; dropped when a request is sent. */
  private last: Map<Key, string> | undefined;
  /** Over the whole fuzz: instances read in full (and reloaded) before they were deleted, and world instances made again. */
  readInFull = 0;
  remade = 0;

  constructor(private readonly world: FuzzWorld) {}

  async setUp(): Promise<void> {
    for (const [workflow, id] of this.world.instances) {
      await make(workflow, id);
      this.known.add(keyOf(workflow, id));
    }
    await this.settle();
    for (const [workflow, id] of this.world.instances) this.made.set(keyOf(workflow, id), this.last!.get(keyOf(workflow, id))!);
  }

  /** Back to the world as made: an instance that changed, or that a run created, is read in full, then deleted (and a world instance made again). */
  async restore(): Promise<void> {
    if (!this.last) await this.settle();
    const now = this.last!;
    let changed = false;
    for (const key of new Set([...this.made.keys(), ...this.known])) {
      const made = this.made.get(key);
      const log = now.get(key);
      if (made !== undefined && log === made) continue;
      changed = true;
      if (log !== undefined) {
        await expectReadableAndReloaded(key);
        this.readInFull++;
        await (await client().workflow(partsOf(key)[0]).get(partsOf(key)[1])).delete();
      }
      this.known.delete(key);
      if (made === undefined) continue;
      await make(...partsOf(key));
      this.known.add(key);
      this.remade++;
    }
    if (!changed) return;
    await this.settle();
    for (const key of this.made.keys()) this.made.set(key, this.last!.get(key)!);
  }

  async send(path: string, init: RequestInit): Promise<Response> {
    this.last = undefined;
    const response = await worker.fetch(new Request(`${ORIGIN}${path}`, init));
    // An upgrade the inspection socket accepted: the fuzz has nothing to say on it.
    if (response.webSocket) {
      response.webSocket.accept();
      response.webSocket.close(1000, "fuzz");
    }
    return response;
  }

  /**
   * workerd's fetch sends a request with `Upgrade: websocket` as a WebSocket
   * handshake, which is a GET, whatever method it was made with; a HEAD's
   * answer still comes without its body, as HEAD is routed as GET.
   */
  methodReceived(init: RequestInit): string {
    const method = init.method ?? "GET";
    return new Headers(init.headers).get("upgrade")?.toLowerCase() === "websocket" && method.toUpperCase() !== "HEAD" ? "GET" : method;
  }

  /** Instances an accepted create or batch made join the known ones, so that their logs are snapshot too. */
  accepted(path: string, status: number, text: string): void {
    const [, , , name, collection, batch] = new URL(path, ORIGIN).pathname.split("/");
    if (collection !== "instances" || name === undefined || (status !== 201 && status !== 207)) return;
    const workflow = decodeURIComponent(name);
    const answer = JSON.parse(text) as { id?: string; created?: { id: string }[] };
    if (batch === undefined && typeof answer.id === "string") this.known.add(keyOf(workflow, answer.id));
    if (batch === "batch") for (const { id } of answer.created ?? []) this.known.add(keyOf(workflow, id));
  }

  /**
   * Waits until every known instance is at rest (no step, rollback or pause
   * under way) and the registry lists exactly the instances that exist, with
   * their statuses: then no log changes until the next request, and the logs
   * are read for the snapshot. An instance the registry lists that no
   * request was known to create joins the known ones, so its log is in the
   * snapshot.
   */
  async settle(): Promise<void> {
    await until(
      async () => {
        const known = [...this.known];
        const [registry, statuses] = await Promise.all([listed(this.world), Promise.all(known.map(statusOf))]);
        const unsettled: string[] = [];
        known.forEach((key, i) => {
          const status = statuses[i];
          if (status === undefined) this.known.delete(key);
          if (status === undefined ? registry.has(key) : BUSY.includes(status) || registry.get(key) !== status) unsettled.push(`${key}: ${status ?? "gone"}, listed ${registry.get(key) ?? "no"}`);
        });
        for (const key of registry.keys()) {
          if (this.known.has(key)) continue;
          this.known.add(key);
          unsettled.push(`${key}: listed, not known until now`);
        }
        return unsettled;
      },
      (unsettled) => unsettled.length === 0,
      "every instance at rest and listed by the registry as it is",
    );
    const known = [...this.known].sort();
    const logs = await Promise.all(known.map(logOf));
    this.last = new Map(known.flatMap((key, i) => (logs[i] === undefined ? [] : [[key, JSON.stringify(logs[i])] as const])));
  }

  async logs(): Promise<string> {
    if (!this.last) await this.settle();
    return JSON.stringify([...this.last!]);
  }

  /** Every instance known at the end of the fuzz, read in full, then reloaded and read again. */
  async expectAllReadable(): Promise<number> {
    for (const key of this.known) await expectReadableAndReloaded(key);
    return this.known.size;
  }
}

describe("fuzzing every route inside workerd, against the Durable Object host (fast-check, seeded)", () => {
  it(`never answers 5xx; every error is a documented code under its status; refusals change no log; every instance stays readable (${RUNS} runs)`, async () => {
    const world = new World(WORLD);
    await world.setUp();
    const tally = newTally();
    const run = async (recipes: Recipe[]) => {
      await world.restore();
      await sendAll(REQUESTS, world, recipes, tally);
    };
    const started = performance.now();
    await fc.assert(fc.asyncProperty(REQUESTS.recipes, run), { seed: SEED, numRuns: RUNS, endOnFailure: false });
    const fuzzed = Math.round(performance.now() - started);
    const readable = await world.expectAllReadable();
    console.log(
      `API fuzz in workerd: ${RUNS} runs in ${fuzzed} ms, ${describeTally(tally)}; ${world.readInFull} instances read in full before they were deleted, ${world.remade} made again; ${readable} read in full at the end`,
    );
    expectEveryEndpointReached(ENDPOINTS, tally);
  }, 180_000);

  it(`the same against an instance whose log is ${LARGE_EVENTS} MiB (${LARGE_RUNS} runs)`, async () => {
    const world = new World(LARGE_WORLD);
    await world.setUp();
    const tally = newTally();
    const run = async (recipes: Recipe[]) => {
      await world.restore();
      await sendAll(LARGE_REQUESTS, world, recipes, tally);
    };
    const started = performance.now();
    await fc.assert(fc.asyncProperty(LARGE_REQUESTS.recipes, run), { seed: SEED, numRuns: LARGE_RUNS, endOnFailure: false, examples: LARGE_READS });
    const fuzzed = Math.round(performance.now() - started);
    const readable = await world.expectAllReadable();
    console.log(
      `API fuzz in workerd, large instance: ${LARGE_RUNS} runs in ${fuzzed} ms, ${describeTally(tally)}; ${world.readInFull} instances read in full before they were deleted, ${world.remade} made again; ${readable} read in full at the end`,
    );
    const read = ["/history", "/steps", "/events"].map((tail) => ENDPOINTS.find((spec) => spec.method === "get" && spec.path === `/api/workflows/{name}/instances/{id}${tail}`)!);
    for (const spec of read) expect(tally.reached.get(spec)?.ok, `${spec.path} never read the large instance`).toBeGreaterThan(0);
    expect(tally.changedLogs).toBeGreaterThan(0);
  }, 180_000);
});
