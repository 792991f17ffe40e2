import { DurableObject, env as workerEnv, WorkflowEntrypoint as CloudflareEntrypoint, type WorkflowEvent as CfEvent, type WorkflowStep as CfStep } from "cloudflare:workers";
import { createWorkflows, type WorkersClient } from "../worker";
import type { WorkflowEvent, WorkflowStep } from "../index";
import { Stopwatch } from "./stopwatch";
import { chain, codeChain, codeWide, deepDag, machineChain, mapDag, pythonChain, stopwatch, wide, wideDag, type ChainParams } from "./workflows";

/**
 * The benchmark Worker: our engine (machine and code-first, with snapshots
 * and without) and Cloudflare's local engine, bound in one workerd, and the
 * stopwatch both report to. Each endpoint runs one measurement inside the
 * Worker, so no HTTP hop is timed, and answers with the times it saw; the
 * figures are worked out in bench/run.ts.
 */
/** The DAG workloads at the sizes of a full run and of a quick one (BENCH_QUICK=1): a DAG's size is part of its definition. */
const dags = [wideDag(1000), wideDag(100), mapDag(1000), mapDag(100), deepDag(200), deepDag(20)];

const withSnapshots = createWorkflows({ workflows: [machineChain, codeChain, codeWide, pythonChain, ...dags], snapshotEvery: 100 });
const withoutSnapshots = createWorkflows({
  workflows: [machineChain, codeChain],
  snapshotEvery: Number.MAX_SAFE_INTEGER,
  bindings: { instances: "NOSNAP_INSTANCES", registry: "NOSNAP_REGISTRY" },
});

/** What an instance object wrote to SQLite since it was constructed (as Durable Objects bill it), the rows its tables hold, and its database's size. */
export interface SqlStats {
  rowsWritten: number;
  rowsStored: number;
  databaseSize: number;
}

/**
 * Our instance object, counting the rows its SQL statements write (the cursor's rowsWritten, what Durable Objects
 * bill; the engine writes nothing through the key-value API). Every statement the engine runs writes, if at all,
 * before exec returns (no INSERT ... RETURNING), so the count is read there; the wrapper costs well under a
 * microsecond a statement.
 */
function counting(base: typeof withSnapshots.WorkflowInstance) {
  return class extends base {
    private readonly counted: { rowsWritten: number };
    private readonly sql: SqlStorage;
    constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
      const counted = { rowsWritten: 0 };
      const exec = ctx.storage.sql.exec.bind(ctx.storage.sql);
      ctx.storage.sql.exec = ((query: string, ...bindings: unknown[]) => {
        const cursor = exec(query, ...bindings);
        counted.rowsWritten += cursor.rowsWritten;
        return cursor;
      }) as SqlStorage["exec"];
      super(ctx, env);
      this.counted = counted;
      this.sql = ctx.storage.sql;
    }

    sqlStats(): SqlStats {
      const tables = this.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray();
      const rowsStored = tables.reduce((total, { name }) => total + (this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).one().n), 0);
      return { rowsWritten: this.counted.rowsWritten, rowsStored, databaseSize: this.sql.databaseSize };
    }
  };
}

export const WorkflowInstance = counting(withSnapshots.WorkflowInstance);
export const WorkflowRegistry = withSnapshots.WorkflowRegistry;
export const WorkflowInstanceNoSnapshots = counting(withoutSnapshots.WorkflowInstance);
export const WorkflowRegistryNoSnapshots = withoutSnapshots.WorkflowRegistry;
export { Stopwatch };

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

/**
 * The floor under any engine's step in this workerd: an object that, per step, awaits a promise and appends one row,
 * either leaving the runtime to coalesce the commits (as our engine does) or waiting for each commit (sync()). And
 * the floor under creating an instance: a new object's first answer, with or without writing one row.
 */
export class Floor extends DurableObject {
  async steps(n: number, commitEach: boolean): Promise<{ ms: number }> {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)");
    const start = Date.now();
    for (let i = 0; i < n; i++) {
      const output = await Promise.resolve(Date.now());
      this.ctx.storage.sql.exec("INSERT INTO log (data) VALUES (?)", JSON.stringify({ key: "step", output }));
      if (commitEach) await this.ctx.storage.sync();
    }
    await this.ctx.storage.sync();
    return { ms: Date.now() - start };
  }

  touch(write: boolean): number {
    if (write) this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS created (at INTEGER NOT NULL); INSERT INTO created VALUES (?)", Date.now());
    return Date.now();
  }
}

interface Env {
  THEIR_CHAIN: Workflow<ChainParams>;
  THEIR_WIDE: Workflow<ChainParams>;
  STOPWATCH: DurableObjectNamespace<Stopwatch>;
  FLOOR: DurableObjectNamespace<Floor>;
}

const stopwatchOf = (env: Env) => env.STOPWATCH.get(env.STOPWATCH.idFromName("stopwatch"));
// The workflows' steps run in objects and entrypoints that have no request of their own: they reach the stopwatch through the module's env.
stopwatch.report = async (tag, at) => stopwatchOf(workerEnv as unknown as Env).mark(tag, at);

type Engine = "theirs" | "ours-code" | "ours-machine" | "ours-machine-nosnap" | "ours-dag";

/** What runs: n steps in a row (the DAG: a chain of n tasks), or n independent steps, 50 at a time (the DAG: n tasks, or one map over n items). */
type Workload = "chain" | "wide" | "map";

function workflowOf(engine: Exclude<Engine, "theirs">, workload: Workload, n: number): string {
  if (engine === "ours-dag") return workload === "chain" ? `dag-deep-${n}` : `dag-${workload}-${n}`;
  if (engine === "ours-code") return workload === "chain" ? "code-chain" : "code-wide";
  return "machine-chain";
}

/** One instance of either engine, as the bench reads it back once its work is done. */
interface Probe {
  status(): Promise<{ status: string }>;
  sendEvent(event: { type: string }): Promise<void>;
  /** The first step's output: the time its body ran (chain workloads without `bytes`). */
  firstOutput(): Promise<unknown>;
  /** When the engine itself recorded the end: our log's last record's time; Cloudflare's local engine shows none. */
  completedAt(): Promise<number | undefined>;
  sqlStats(): Promise<SqlStats | undefined>;
}

function theirProbe(instance: Awaited<ReturnType<Workflow["create"]>>): Probe {
  return {
    status: () => instance.status(),
    sendEvent: (event) => instance.sendEvent({ ...event, payload: null }),
    firstOutput: async () => ((await instance.status()) as { __LOCAL_DEV_STEP_OUTPUTS?: unknown[] }).__LOCAL_DEV_STEP_OUTPUTS?.[0],
    completedAt: async () => undefined,
    sqlStats: async () => undefined,
  };
}

const ourHost = (engine: Exclude<Engine, "theirs">) => (engine === "ours-machine-nosnap" ? withoutSnapshots : withSnapshots);

function ourProbe(env: Env, engine: Exclude<Engine, "theirs">, workflow: string, id: string): Probe {
  const client: WorkersClient = ourHost(engine).client(env);
  const handle = client.workflow(workflow).get(id);
  const stub = () => client.stub(workflow, id);
  return {
    status: async () => (await handle).status(),
    sendEvent: async (event) => (await handle).sendEvent(event),
    firstOutput: async () => {
      const records = await (await handle).history({ limit: 10 });
      const first = records.find((record) => record.type === "step.succeeded") as { data: { output?: unknown } } | undefined;
      return first?.data.output;
    },
    completedAt: async () => {
      const { records } = await stub().footprint();
      const [last] = await (await handle).history({ after: records - 1 });
      return last?.type === "instance.completed" ? last.at : undefined;
    },
    sqlStats: () => (stub() as unknown as { sqlStats(): Promise<SqlStats> }).sqlStats(),
  };
}

async function create(env: Env, engine: Engine, id: string, params: ChainParams, workload: Workload = "chain"): Promise<Probe> {
  if (engine === "theirs") return theirProbe(await (workload === "chain" ? env.THEIR_CHAIN : env.THEIR_WIDE).create({ id, params }));
  // Untyped: the workflow is named by a string built from the engine and the size.
  const workflow = workflowOf(engine, workload, params.n);
  const client: WorkersClient = ourHost(engine).client(env);
  await client.workflow(workflow).create({ id, params });
  return ourProbe(env, engine, workflow, id);
}

async function get(env: Env, engine: Engine, id: string): Promise<Probe> {
  if (engine === "theirs") return theirProbe(await env.THEIR_CHAIN.get(id));
  const probe = ourProbe(env, engine as Exclude<Engine, "theirs">, engine === "ours-code" ? "code-chain" : "machine-chain", id);
  await probe.status();
  return probe;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads status every `spacing` ms until `done`, and answers when the read that saw it came back: no later than
 * `spacing` ms plus one read after the engine got there. Called once the run's work is done (its last step
 * reported), so the reads never slow the steps being measured; or, to show what reads do to a run, from creation on
 * (`watch`), where `spacing` 0 is the bench's old watch: reads back to back, which slows Cloudflare's engine.
 */
async function settle(probe: Probe, spacing: number, done: (status: string) => boolean = finished): Promise<{ at: number; reads: number }> {
  for (let reads = 1; ; reads++) {
    const { status } = await probe.status();
    if (done(status)) return { at: Date.now(), reads };
    if (status === "errored" || status === "terminated") throw new Error(`The instance ended ${status}.`);
    if (spacing > 0) await pause(spacing);
  }
}

const finished = (status: string) => status === "complete";

/** The times one run passed, all from Date.now() in this one workerd process; bench/run.ts turns them into figures. */
interface RunTimes {
  /** Before create was called, and when it returned. */
  start: number;
  created: number;
  /** When the first step's body ran (chain workloads). */
  first?: number;
  /** When the last step's body ran, from its report to the stopwatch, and when the stopwatch heard it. */
  last?: number;
  heard?: number;
  /** When a spaced read first saw the run complete, and how many reads that took. */
  complete: number;
  reads: number;
  /** Ours: when the engine recorded the end in its log. */
  logged?: number;
}

async function run(env: Env, engine: Engine, id: string, params: ChainParams, workload: Workload, spacing: number, watch: boolean): Promise<RunTimes> {
  // A DAG has no code of its own to report from: spaced reads from creation on watch it (ours answers them cheaply).
  const reports = !watch && engine !== "ours-dag";
  const start = Date.now();
  const probe = await create(env, engine, id, { ...params, report: reports ? id : undefined }, workload);
  const created = Date.now();
  const mark = reports ? await stopwatchOf(env).wait(id) : undefined;
  const { at: complete, reads } = await settle(probe, spacing);
  const first = workload === "chain" && !params.bytes ? ((await probe.firstOutput()) as number | undefined) : undefined;
  return { start, created, first, last: mark?.at, heard: mark?.heard, complete, reads, logged: await probe.completedAt() };
}

async function measure(env: Env, url: URL): Promise<unknown> {
  const query = url.searchParams;
  const engine = query.get("engine") as Engine;
  const tag = query.get("tag") ?? crypto.randomUUID();
  const n = Number(query.get("n") ?? "0");
  const names = (query.get("names") ?? "one") as "one" | "unique";
  const spacing = Number(query.get("spacing") ?? (query.get("watch") === "1" ? "0" : "1"));
  const workload = (query.get("workload") ?? "chain") as Workload;
  switch (url.pathname) {
    case "/run":
      return run(env, engine, `one-${tag}`, { n, names, bytes: Number(query.get("bytes") ?? "0") || undefined }, workload, spacing, query.get("watch") === "1");
    case "/steps": {
      // Only the steps, for the CPU profile: create, then the last step's report; nothing read before or after.
      const start = Date.now();
      const id = `steps-${tag}`;
      await create(env, engine, id, { n, names, report: id });
      const mark = await stopwatchOf(env).wait(id);
      return { start, last: mark.at };
    }
    case "/concurrent": {
      const instances = Number(query.get("instances"));
      return Promise.all(Array.from({ length: instances }, (_, i) => run(env, engine, `con-${tag}-${i}`, { n, names }, "chain", spacing, false)));
    }
    case "/create": {
      const instances = Number(query.get("instances"));
      const start = Date.now();
      await Promise.all(Array.from({ length: instances }, (_, i) => create(env, engine, `new-${tag}-${i}`, { n: 0, wait: true })));
      return { ms: Date.now() - start };
    }
    case "/floor-create": {
      const instances = Number(query.get("instances"));
      const write = query.get("write") === "1";
      const start = Date.now();
      await Promise.all(Array.from({ length: instances }, (_, i) => env.FLOOR.get(env.FLOOR.idFromName(`new-${tag}-${i}`)).touch(write)));
      return { ms: Date.now() - start };
    }
    case "/floor-steps":
      return env.FLOOR.get(env.FLOOR.idFromName(`steps-${tag}`)).steps(n, query.get("commit") === "each");
    case "/storage": {
      // n steps with `bytes`-byte outputs, then what the instance's object wrote and holds (Cloudflare's: bench/their-log.ts reads its file).
      const id = `bytes-${tag}`;
      const times = await run(env, engine, id, { n, names, bytes: Number(query.get("bytes") ?? "0") || undefined }, "chain", spacing, false);
      if (engine === "theirs") return { times };
      const probe = ourProbe(env, engine, workflowOf(engine, "chain", n), id);
      return { times, sql: await probe.sqlStats(), footprint: await ourHost(engine).client(env).stub(workflowOf(engine, "chain", n), id).footprint() };
    }
    case "/prepare":
    case "/idle": {
      // Instances that ran n steps and wait for an event: the recovery rows wake them after a restart, the memory rows weigh them.
      const instances = Number(query.get("instances") ?? "1");
      const ids = Array.from({ length: instances }, (_, i) => (instances === 1 ? tag : `${tag}-${i}`));
      await Promise.all(
        ids.map(async (id) => {
          const probe = await create(env, engine, id, { n, wait: true, report: n > 0 ? id : undefined });
          if (n > 0) await stopwatchOf(env).wait(id);
          // Cloudflare's local engine says "running" while it waits for an event.
          if (engine !== "theirs") await settle(probe, spacing, (status) => status === "waiting");
        }),
      );
      const records = engine === "theirs" || instances > 1 ? undefined : (await ourHost(engine).client(env).stub(workflowOf(engine, "chain", n), tag).footprint()).records;
      return { ids, records };
    }
    case "/python": {
      // A Python worker process (started by bench/run.ts) runs the steps; the figures come from the log's own times,
      // so the reads that wait for the end are spaced and measure nothing.
      const instances = Number(query.get("instances") ?? "1");
      const client = withSnapshots.client(env).workflow(pythonChain.name);
      const handles = await Promise.all(Array.from({ length: instances }, (_, i) => client.create({ id: `py-${tag}-${i}`, params: { n } })));
      for (const handle of handles) {
        for (;;) {
          const { status } = await handle.status();
          if (status === "complete") break;
          if (status === "errored" || status === "terminated") throw new Error(`The Python instance ended ${status}.`);
          await pause(25);
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
    case "/report": {
      // What one report to the stopwatch costs, as a step's body pays it.
      const at = Date.now();
      await stopwatch.report(`cost-${tag}`, at);
      const heard = Date.now();
      await stopwatchOf(env).wait(`cost-${tag}`);
      return { ms: heard - at };
    }
    default:
      return { error: `no benchmark at ${url.pathname}` };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return Response.json({ ok: true, stopwatch: await stopwatchOf(env).ping() });
    // The engine's HTTP API, for the Python worker's protocol.
    if (url.pathname.startsWith("/api/")) return withSnapshots.fetch(request, env);
    try {
      return Response.json(await measure(env, url));
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env>;
