import { WorkflowEntrypoint as CloudflareEntrypoint, type WorkflowEvent as CfEvent, type WorkflowStep as CfStep } from "cloudflare:workers";
import { createWorkflows, type WorkersClient } from "../worker";
import type { WorkflowEvent, WorkflowStep } from "../index";
import { chain, codeChain, codeWide, deepDag, machineChain, mapDag, pythonChain, wide, wideDag, type ChainParams } from "./workflows";

/**
 * The benchmark Worker: our engine (machine and code-first, with snapshots
 * and without) and Cloudflare's local engine, bound in one workerd. Each
 * endpoint runs one measurement inside the Worker, so no HTTP hop is timed.
 */
/** The DAG workloads at the sizes of a full run and of a quick one (BENCH_QUICK=1): a DAG's size is part of its definition. */
const dags = [wideDag(1000), wideDag(100), mapDag(1000), mapDag(100), deepDag(200), deepDag(20)];

const withSnapshots = createWorkflows({ workflows: [machineChain, codeChain, codeWide, pythonChain, ...dags], snapshotEvery: 100 });
const withoutSnapshots = createWorkflows({
  workflows: [machineChain, codeChain],
  snapshotEvery: Number.MAX_SAFE_INTEGER,
  bindings: { instances: "NOSNAP_INSTANCES", registry: "NOSNAP_REGISTRY" },
});

export const { WorkflowInstance, WorkflowRegistry } = withSnapshots;
export const WorkflowInstanceNoSnapshots = withoutSnapshots.WorkflowInstance;
export const WorkflowRegistryNoSnapshots = withoutSnapshots.WorkflowRegistry;

export class TheirChain extends CloudflareEntrypoint<unknown, ChainParams> {
  override async run(event: CfEvent<ChainParams>, step: CfStep) {
    return chain(event as unknown as WorkflowEvent<ChainParams>, step as unknown as WorkflowStep);
  }
}

export class TheirWide extends CloudflareEntrypoint<unknown, ChainParams> {
  override async run(event: CfEvent<ChainParams>, step: CfStep) {
    return wide(event as unknown as WorkflowEvent<ChainParams>, step as unknown as WorkflowStep);
  }
}

interface Env {
  THEIR_CHAIN: Workflow<ChainParams>;
  THEIR_WIDE: Workflow<ChainParams>;
}

type Engine = "theirs" | "ours-code" | "ours-machine" | "ours-machine-nosnap" | "ours-dag";

/** What runs: n steps in a row (the DAG: a chain of n tasks), or n independent steps, 50 at a time (the DAG: n tasks, or one map over n items). */
type Workload = "chain" | "wide" | "map";

function workflowOf(engine: Exclude<Engine, "theirs">, workload: Workload, n: number): string {
  if (engine === "ours-dag") return workload === "chain" ? `dag-deep-${n}` : `dag-${workload}-${n}`;
  if (engine === "ours-code") return workload === "chain" ? "code-chain" : "code-wide";
  return "machine-chain";
}

interface Probe {
  status(): Promise<{ status: string; __LOCAL_DEV_STEP_OUTPUTS?: unknown[] }>;
  sendEvent(event: { type: string }): Promise<void>;
}

async function create(env: Env, engine: Engine, id: string, params: ChainParams, workload: Workload = "chain"): Promise<Probe> {
  if (engine === "theirs") {
    const instance = await (workload === "chain" ? env.THEIR_CHAIN : env.THEIR_WIDE).create({ id, params });
    return { status: () => instance.status(), sendEvent: (event) => instance.sendEvent({ ...event, payload: null }) };
  }
  // Untyped: the workflow is named by a string built from the engine and the size.
  const client: WorkersClient = (engine === "ours-machine-nosnap" ? withoutSnapshots : withSnapshots).client(env);
  return client.workflow(workflowOf(engine, workload, params.n)).create({ id, params });
}

async function get(env: Env, engine: Engine, id: string): Promise<Probe> {
  if (engine === "theirs") {
    const instance = await env.THEIR_CHAIN.get(id);
    return { status: () => instance.status(), sendEvent: (event) => instance.sendEvent({ ...event, payload: null }) };
  }
  const host = engine === "ours-machine-nosnap" ? withoutSnapshots : withSnapshots;
  return host.client(env).workflow(engine === "ours-code" ? "code-chain" : "machine-chain").get(id);
}

/** Reads status back to back until `done`: every engine pays the same for being watched, and no sleep hides a difference. */
async function watch(probe: Probe, done: (status: string) => boolean): Promise<number> {
  let reads = 0;
  for (;;) {
    reads++;
    const { status } = await probe.status();
    if (done(status)) return reads;
    if (status === "errored" || status === "terminated") throw new Error(`The instance ended ${status}.`);
  }
}

const finished = (status: string) => status === "complete";
const waiting = (status: string) => status === "waiting" || status === "running";

async function measure(env: Env, url: URL): Promise<unknown> {
  const engine = url.searchParams.get("engine") as Engine;
  const tag = url.searchParams.get("tag") ?? crypto.randomUUID();
  const n = Number(url.searchParams.get("n") ?? "0");
  switch (url.pathname) {
    case "/complete": {
      const start = Date.now();
      const probe = await create(env, engine, `one-${tag}`, { n }, (url.searchParams.get("workload") ?? "chain") as Workload);
      const reads = await watch(probe, finished);
      return { ms: Date.now() - start, reads };
    }
    case "/concurrent": {
      const instances = Number(url.searchParams.get("instances"));
      const start = Date.now();
      const durations = await Promise.all(
        Array.from({ length: instances }, async (_, i) => {
          const probe = await create(env, engine, `con-${tag}-${i}`, { n });
          await watch(probe, finished);
          return Date.now() - start;
        }),
      );
      return { ms: Date.now() - start, durations };
    }
    case "/create": {
      const instances = Number(url.searchParams.get("instances"));
      const start = Date.now();
      await Promise.all(Array.from({ length: instances }, (_, i) => create(env, engine, `new-${tag}-${i}`, { n: 0, wait: true })));
      return { ms: Date.now() - start };
    }
    case "/prepare": {
      const probe = await create(env, engine, tag, { n, wait: true, bytes: Number(url.searchParams.get("bytes") ?? "0") });
      if (engine === "theirs") {
        // Cloudflare's local engine says "running" while it waits; its step outputs tell when all n steps are done.
        while (((await probe.status()).__LOCAL_DEV_STEP_OUTPUTS?.length ?? 0) < n) await new Promise((resolve) => setTimeout(resolve, 20));
      } else {
        await watch(probe, (status) => status === "waiting");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const host = engine === "ours-machine-nosnap" ? withoutSnapshots : withSnapshots;
      const footprint = engine === "theirs" ? undefined : await host.client(env).stub(engine === "ours-code" ? "code-chain" : "machine-chain", tag).footprint();
      return { footprint };
    }
    case "/python": {
      // A Python worker process (started by bench/run.ts) runs the steps; the figures come from the log's own times,
      // so the reads that wait for the end are spaced and measure nothing.
      const instances = Number(url.searchParams.get("instances") ?? "1");
      const client = withSnapshots.client(env).workflow(pythonChain.name);
      const handles = await Promise.all(Array.from({ length: instances }, (_, i) => client.create({ id: `py-${tag}-${i}`, params: { n } })));
      for (const handle of handles) {
        for (;;) {
          const { status } = await handle.status();
          if (status === "complete") break;
          if (status === "errored" || status === "terminated") throw new Error(`The Python instance ended ${status}.`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }
      const spans = await Promise.all(
        handles.map(async (handle) => {
          const records = await handle.history();
          return { created: records[0]!.at, completed: records.at(-1)!.at };
        }),
      );
      const start = Math.min(...spans.map((span) => span.created));
      const end = Math.max(...spans.map((span) => span.completed));
      return { ms: end - start, perInstance: spans.map((span) => span.completed - span.created) };
    }
    case "/wake": {
      const start = Date.now();
      const probe = await get(env, engine, tag);
      const { status } = await probe.status();
      return { ms: Date.now() - start, status };
    }
    default:
      return { error: `no benchmark at ${url.pathname}` };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return Response.json({ ok: true });
    // The engine's HTTP API, for the Python worker's protocol.
    if (url.pathname.startsWith("/api/")) return withSnapshots.fetch(request, env);
    try {
      return Response.json(await measure(env, url));
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env>;
