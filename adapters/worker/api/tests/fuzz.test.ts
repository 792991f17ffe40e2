import fc from "fast-check";
import { describe, it } from "vitest";
import { createManualClock, createMemoryHost, MemoryStorage, type MemoryHost } from "../../../../index";
import { WorkflowCatalog } from "../../../../runtime/catalog";
import { apiEndpoints, createApi, type ApiHost } from "../app";
import { apiHost, logsOf, settle, TOKEN, WORKER_TOKEN, WORKFLOWS } from "./api-host";
import { describeTally, expectEveryEndpointReached, fuzzRequests, newTally, SEED, sendAll, type FuzzWorld, type Recipe } from "./fuzz-requests";

/**
 * Every route, fuzzed (fuzz-requests.ts says what is sent and what is
 * checked), through `app.request()` to the memory host: each run starts from
 * a copy of the same instances, so a shrunk run replays the same.
 * test/api-fuzz.test.ts sends the same requests to the Durable Object host.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

const inspect: ApiHost["inspect"] = async () => new Response(null, { status: 200 });

/** One app for every run; each request brings its run's host in `env`, as a Worker's requests bring their bindings. */
const hostOf = (env: unknown) => (env as { host: MemoryHost }).host;
const host: ApiHost = {
  catalog: new WorkflowCatalog(WORKFLOWS),
  client: hostOf,
  token: () => TOKEN,
  inspect,
  python: (env, workflow) => hostOf(env).python(workflow),
  workerToken: () => WORKER_TOKEN,
};
const app = createApi(host);
const ENDPOINTS = apiEndpoints(host, () => ({}));

/** Instances at rest in every state a route treats differently: waiting, complete, paused, a code-first one between retries, a Python one wanting a worker. */
const WORLD: FuzzWorld = {
  instances: [
    ["gate", "g-wait"],
    ["gate", "g-done"],
    ["gate", "g-paused"],
    ["booking", "b-rest"],
    ["pipeline", "p-want"],
  ],
  deletable: ["g-wait", "g-done", "b-rest", "missing"],
  python: "pipeline",
};
const REQUESTS = fuzzRequests(WORLD, ENDPOINTS);

async function baseline(): Promise<MemoryStorage> {
  const api = apiHost();
  for (const id of ["g-wait", "g-done", "g-paused"]) await api.post("/api/workflows/gate/instances", { id, params: { id } });
  await api.post("/api/workflows/booking/instances", { id: "b-rest" });
  await api.post("/api/workflows/pipeline/instances", { id: "p-want" });
  await api.settle();
  await api.post("/api/workflows/gate/instances/g-done/events", { type: "approve", payload: { by: "fuzz" } });
  await api.post("/api/workflows/gate/instances/g-paused/pause");
  await api.settle();
  return api.host.storage;
}

/** A copy of the baseline's storage: each run starts from the same instances, so a shrunk run replays the same. */
function copyOf(storage: MemoryStorage): MemoryStorage {
  const copy = new MemoryStorage();
  for (const { workflow, id } of storage.all()) {
    const store = copy.store(workflow, id);
    store.append(storage.store(workflow, id).read());
    for (const snapshot of storage.snapshots(workflow, id)) store.saveSnapshot(snapshot);
  }
  return copy;
}

describe("fuzzing every route (fast-check, seeded)", () => {
  it(`never answers 5xx; every error is a documented code under its status; refusals change no log (${RUNS} runs)`, async () => {
    const storage = await baseline();
    const tally = newTally();
    const run = async (recipes: Recipe[]) => {
      // Untyped, as the API serves it: WORLD names workflows by string.
      const host: MemoryHost = createMemoryHost({ workflows: WORKFLOWS, clock: createManualClock(1_000_000), storage: copyOf(storage) });
      // Loaded as a restarted process loads them: the Python instance wants a worker from the start of the run.
      for (const [workflow, id] of WORLD.instances) await host.workflow(workflow).get(id);
      const target = { send: async (path: string, init: RequestInit) => app.request(path, init, { host }), logs: async () => logsOf(host), settle: () => settle(host) };
      await sendAll(REQUESTS, target, recipes, tally);
    };
    const started = performance.now();
    await fc.assert(fc.asyncProperty(REQUESTS.recipes, run), { seed: SEED, numRuns: RUNS, endOnFailure: false });
    console.log(`API fuzz: ${RUNS} runs in ${Math.round(performance.now() - started)} ms, ${describeTally(tally)}`);
    expectEveryEndpointReached(ENDPOINTS, tally);
  });
});
