/**
 * `npm run bench`: bundles bench/worker.ts and starts it in workerd through Miniflare's API (bench/workerd.ts), with
 * both engines bound (ours, and Cloudflare's local Workflows engine through a [[workflows]] binding) and no proxy in
 * front of it, as in production. Nobody reads either engine while its steps run: each run's last step reports the
 * time its body ran to a stopwatch object outside both engines (bench/stopwatch.ts), and each engine's own record of
 * the run's end is read afterwards (our log; Cloudflare's engine's SQLite log, bench/their-log.ts). Every figure is
 * split into its parts (create to first step, per step, last step to complete) and the per-step cost is a curve over
 * 10 to 10,000 steps. It also measures recovery against log length, memory per idle instance and a CPU profile of
 * where a step's time goes (through workerd's inspector, bench/inspector.ts), the storage a step writes, and checks
 * the figure for Cloudflare's engine against a minimal Worker that drives it with no code of ours (bench/crosscheck/).
 * It prints every table with how it was measured and writes bench/results/latest.json.
 *
 * BENCH_QUICK=1 is a short run that checks the harness (its figures are not for quoting). BENCH_ONLY=<phases> runs
 * some phases alone (a comma list of sequential, concurrent, create, storage, dags, python, recovery, memory,
 * profile, crosscheck); neither writes the results.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { inspectorTargets, InspectorSession, type CpuProfile } from "./inspector.ts";
import { bundleFiles, splitProfile, type ProfileSplit } from "./profile.ts";
import { PYTHON_WORKER_TOKEN, startPythonWorker, stopPythonWorker } from "./python.ts";
import { TheirLogs } from "./their-log.ts";
import { bundleBenchWorker, bundleCrosscheckWorker, startBenchWorker, startCrosscheckWorker, type BenchWorker } from "./workerd.ts";

process.env.WRANGLER_SEND_METRICS = "false";
const quick = process.env.BENCH_QUICK === "1";
const PHASES = ["sequential", "concurrent", "create", "storage", "dags", "python", "recovery", "memory", "profile", "crosscheck"] as const;
type Phase = (typeof PHASES)[number];
const only = process.env.BENCH_ONLY?.split(",").map((phase) => phase.trim()) as Phase[] | undefined;
for (const phase of only ?? []) if (!PHASES.includes(phase)) throw new Error(`BENCH_ONLY: no phase "${phase}"; the phases are ${PHASES.join(", ")}.`);
const runs = (phase: Phase) => !only || only.includes(phase);
const root = new URL("..", import.meta.url).pathname;
const persistTo = mkdtempSync(join(tmpdir(), "dm-bench-"));
const bundle = await bundleBenchWorker(root);
const theirLogs = new TheirLogs(persistTo);
const vars = { API_TOKEN: "bench-api-token", PYTHON_WORKER_TOKEN };

type Engine = "theirs" | "ours-code" | "ours-machine" | "ours-machine-nosnap" | "ours-dag";
type Names = "one" | "unique";
type Workload = "chain" | "wide" | "map";

let worker: BenchWorker;
/** The bench's workerd process, for its CPU time and resident memory. */
let workerdPid: number;

async function start(inspector = false): Promise<void> {
  worker = await startBenchWorker(bundle.scriptPath, { root, persistTo, vars, inspector });
  workerdPid = onlyWorkerd();
  await call("/ping");
}

/** The one workerd process Miniflare started under this process (the cross-check's starts later). */
function onlyWorkerd(): number {
  const children = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, command]) => command === "workerd");
  if (children.length !== 1) throw new Error(`Expected one workerd child process, found ${children.length}.`);
  return Number(children[0]![0]);
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/**
 * CPU time (ms) workerd has used, all its threads (one runs every isolate; V8's helpers the rest): unlike wall time,
 * it hardly moves when other work on the machine takes the cores. In clock ticks (10 ms), so pooled over runs.
 */
function workerdCpuMs(): number {
  const fields = readFileSync(`/proc/${workerdPid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** workerd's resident memory (kB). */
function workerdRss(): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${workerdPid}/status`, "utf8"))![1]);
}

async function call<T = Record<string, unknown>>(path: string): Promise<T> {
  const response = await worker.fetch(path);
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok || body.error) throw new Error(`${path}: ${body.error ?? response.status}`);
  return body;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
let tags = 0;
const tag = () => `t${++tags}`;
const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** The times of one run as bench/worker.ts reports them (Date.now() in workerd), and the engine's own record of its end. */
interface Run {
  n: number;
  start: number;
  created: number;
  first?: number;
  last?: number;
  complete: number;
  reads: number;
  logged?: number;
  ended: number;
  /** workerd's CPU time over the call (ms). */
  cpu: number;
}

/** When the engine recorded the end: our log says it (logged); Cloudflare's engine's log is read from its file. */
function ended(engine: Engine, id: string, times: Omit<Run, "ended" | "n" | "cpu">): number {
  const at = times.logged ?? (engine === "theirs" ? theirLogs.completedAt(id) : undefined);
  if (at === undefined) throw new Error(`No record of the end of ${engine} instance ${id}.`);
  return at;
}

interface RunOptions {
  names?: Names;
  workload?: Workload;
  /** ms between the reads that follow the last step's report (the DAG's, from creation on). */
  spacing?: number;
  /** The old way: reads back to back from creation on, no report. */
  watch?: boolean;
}

async function runOnce(engine: Engine, n: number, { names = "one", workload = "chain", spacing = 1, watch = false }: RunOptions = {}): Promise<Run> {
  const id = tag();
  const cpuBefore = workerdCpuMs();
  const times = await call<Omit<Run, "ended" | "n" | "cpu">>(`/run?engine=${engine}&n=${n}&names=${names}&workload=${workload}&spacing=${spacing}&watch=${watch ? 1 : 0}&tag=${id}`);
  return { ...times, n, ended: ended(engine, `one-${id}`, times), cpu: workerdCpuMs() - cpuBefore };
}

/**
 * A run's figures: create() returning; create to the first step's body; the step cost, from the first step's body
 * to the last's, pooled over the runs (Date.now() moves in whole milliseconds, so short runs are pooled, not each
 * divided); the last step's body to the engine's record of the end; create to that end per step; the same as the
 * spaced reads saw it; and workerd's CPU time over the whole call, per step, pooled.
 */
interface Split {
  n: number;
  runs: number;
  createCall: number;
  toFirst: number;
  stepUs: number;
  tail: number;
  perStep: number;
  seenPerStep: number;
  cpuUs: number;
  reads: number;
}

function splitOf(list: Run[]): Split {
  const n = list[0]!.n;
  const stepped = list.filter((run) => run.first !== undefined && run.last !== undefined);
  return {
    n,
    runs: list.length,
    createCall: median(list.map((run) => run.created - run.start)),
    toFirst: stepped.length ? median(stepped.map((run) => run.first! - run.start)) : NaN,
    stepUs: n > 1 && stepped.length ? (sum(stepped.map((run) => run.last! - run.first!)) / (stepped.length * (n - 1))) * 1000 : NaN,
    tail: stepped.length ? median(stepped.map((run) => run.ended - run.last!)) : median(list.filter((run) => run.last !== undefined).map((run) => run.ended - run.last!)),
    perStep: median(list.map((run) => (run.ended - run.start) / n)),
    seenPerStep: median(list.map((run) => (run.complete - run.start) / n)),
    cpuUs: (sum(list.map((run) => run.cpu)) / (list.length * n)) * 1000,
    reads: median(list.map((run) => run.reads)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The phases. Each returns what it measured; the tables are printed at the end.

const SEQUENTIAL: { engine: Engine; names: Names }[] = [
  { engine: "theirs", names: "one" },
  { engine: "theirs", names: "unique" },
  { engine: "ours-code", names: "one" },
  { engine: "ours-code", names: "unique" },
  { engine: "ours-machine", names: "one" },
];
const configName = ({ engine, names }: { engine: Engine; names: Names }) => `${engine} ${names}`;
const curveSizes = quick ? [10, 100, 1000] : [10, 100, 1000, 10_000];
/** Runs per size: enough that the pooled step cost of the short runs rests on many milliseconds. */
const curveRuns: Record<number, number> = quick ? { 10: 10, 100: 3, 1000: 1 } : { 10: 30, 100: 10, 1000: 5, 10_000: 1 };
const mainSteps = 1000;

async function sequential() {
  log(`sequential: warm-up, then ${curveSizes.join(", ")} steps, the engines taking turns run by run`);
  for (const config of SEQUENTIAL) await runOnce(config.engine, 100, { names: config.names });
  const curves: Record<string, Record<number, Split>> = {};
  for (const n of curveSizes) {
    const collected = new Map<string, Run[]>();
    for (let i = 0; i < curveRuns[n]!; i++) {
      for (const config of SEQUENTIAL) collected.set(configName(config), [...(collected.get(configName(config)) ?? []), await runOnce(config.engine, n, { names: config.names })]);
    }
    for (const [name, list] of collected) (curves[name] ??= {})[n] = splitOf(list);
    log(`sequential: ${n} steps done`);
  }
  log("sequential: the same 1000 steps with reads spaced 10 ms, and watched back to back (the old way)");
  const spaced: Record<string, Split> = {};
  const watched: Record<string, Split> = {};
  for (const engine of ["theirs", "ours-code"] as const) {
    const list: Run[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) list.push(await runOnce(engine, mainSteps, { spacing: 10 }));
    spaced[engine] = splitOf(list);
    const watching: Run[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) watching.push(await runOnce(engine, mainSteps, { watch: true }));
    watched[engine] = splitOf(watching);
  }
  return { curves, spaced, watched };
}

async function concurrent() {
  const shape = quick ? { instances: 20, n: 5 } : { instances: 200, n: 20 };
  log(`concurrent: ${shape.instances} instances x ${shape.n} steps`);
  const results: Record<string, { stepsPerSecond: number; p50: number; p99: number; split: Split }> = {};
  for (const engine of ["theirs", "ours-code", "ours-machine"] as const) {
    await call(`/concurrent?engine=${engine}&instances=10&n=${shape.n}&tag=${tag()}`);
    const rounds: { stepsPerSecond: number; p50: number; p99: number; split: Split }[] = [];
    for (let round = 0; round < (quick ? 1 : 3); round++) {
      const id = tag();
      const cpuBefore = workerdCpuMs();
      const answers = await call<Omit<Run, "ended" | "n" | "cpu">[]>(`/concurrent?engine=${engine}&instances=${shape.instances}&n=${shape.n}&tag=${id}`);
      const cpu = (workerdCpuMs() - cpuBefore) / shape.instances;
      const list = answers.map((times, i) => ({ ...times, n: shape.n, cpu, ended: ended(engine, `con-${id}-${i}`, times) }));
      const span = Math.max(...list.map((run) => run.ended)) - Math.min(...list.map((run) => run.start));
      const durations = list.map((run) => run.ended - run.start);
      rounds.push({ stepsPerSecond: (shape.instances * shape.n * 1000) / span, p50: percentile(durations, 50), p99: percentile(durations, 99), split: splitOf(list) });
    }
    const middle = rounds.sort((a, b) => a.stepsPerSecond - b.stepsPerSecond)[Math.floor(rounds.length / 2)]!;
    results[engine] = middle;
  }
  return { shape, results };
}

async function creations() {
  const count = quick ? 20 : 200;
  const rounds = quick ? 1 : 5;
  log(`create: ${count} instances at once, and the floor: ${count} new bare objects`);
  /** Creations per second (median of the rounds) and workerd's CPU time per creation (pooled). */
  const rate = async (path: (id: string) => string) => {
    await call(path(tag()).replace(`instances=${count}`, "instances=10"));
    const rates: number[] = [];
    let cpu = 0;
    for (let i = 0; i < rounds; i++) {
      const cpuBefore = workerdCpuMs();
      rates.push((count * 1000) / (await call<{ ms: number }>(path(tag()))).ms);
      cpu += workerdCpuMs() - cpuBefore;
    }
    return { perSecond: median(rates), cpuUs: (cpu * 1000) / (rounds * count) };
  };
  const engines: Record<string, { perSecond: number; cpuUs: number }> = {};
  for (const engine of ["theirs", "ours-code", "ours-machine"] as const) engines[engine] = await rate((id) => `/create?engine=${engine}&instances=${count}&tag=${id}`);
  const bare = await rate((id) => `/floor-create?instances=${count}&write=0&tag=${id}`);
  const bareWrite = await rate((id) => `/floor-create?instances=${count}&write=1&tag=${id}`);
  const floorSteps = quick ? 1000 : 10_000;
  const floor = {
    coalesced: ((await call<{ ms: number }>(`/floor-steps?n=${floorSteps}&commit=coalesced&tag=${tag()}`)).ms * 1000) / floorSteps,
    each: ((await call<{ ms: number }>(`/floor-steps?n=${Math.min(floorSteps, 2000)}&commit=each&tag=${tag()}`)).ms * 1000) / Math.min(floorSteps, 2000),
  };
  return { count, engines, bare, bareWrite, floor, floorSteps };
}

interface Stored {
  rowsWritten?: number;
  rowsStored: number;
  databaseSize: number;
  logicalBytes?: number;
}

async function storage() {
  const sizes = [10, quick ? 100 : 1000];
  log(`storage: ${sizes.join(" and ")} steps of 100-byte outputs`);
  const measured: Record<string, Record<number, Stored>> = {};
  for (const engine of ["theirs", "ours-code", "ours-machine"] as const) {
    for (const n of sizes) {
      const id = tag();
      const answer = await call<{ sql?: { rowsWritten: number; rowsStored: number; databaseSize: number }; footprint?: { log: number; snapshots: number } }>(`/storage?engine=${engine}&n=${n}&bytes=100&tag=${id}`);
      let stored: Stored;
      if (engine === "theirs") {
        const theirs = theirLogs.storage(`bytes-${id}`);
        stored = { rowsStored: sum(Object.values(theirs.rows)), databaseSize: theirs.databaseSize };
      } else stored = { ...answer.sql!, logicalBytes: answer.footprint!.log + answer.footprint!.snapshots };
      (measured[engine] ??= {})[n] = stored;
    }
  }
  const [small, large] = sizes as [number, number];
  const perStep = (engine: string, key: keyof Stored) => {
    const a = measured[engine]![small]![key];
    const b = measured[engine]![large]![key];
    return a === undefined || b === undefined ? undefined : { step: (b - a) / (large - small), fixed: a - (small * (b - a)) / (large - small) };
  };
  const figures = Object.fromEntries(
    Object.keys(measured).map((engine) => [engine, { rowsWritten: perStep(engine, "rowsWritten"), rowsStored: perStep(engine, "rowsStored"), databaseSize: perStep(engine, "databaseSize"), logicalBytes: perStep(engine, "logicalBytes") }]),
  );
  return { sizes, measured, figures };
}

/**
 * DAGs against the code a code-first engine runs for the same work: n independent steps, 50 at a time
 * (Promise.all batches; the DAG's maxConcurrency, or a map's concurrency), and a chain of steps (each task needing
 * the one before). A DAG has no code of its own to report from, so ours is read every `spacing` ms from creation on
 * (ours answers a status read from memory), and its end is its log's.
 */
async function dags() {
  const rounds = quick ? 1 : 3;
  const sizes = quick ? { wide: 100, deep: 20 } : { wide: 1000, deep: 200 };
  const time = async (engine: Engine, workload: Workload, n: number, spacing = 1) => {
    await runOnce(engine, n, { workload, spacing });
    const list: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const run = await runOnce(engine, n, { workload, spacing });
      list.push(run.ended - run.start);
    }
    return median(list);
  };
  log(`dags: ${sizes.wide} independent steps, and a chain of ${sizes.deep}`);
  return {
    sizes,
    wide: { theirs: await time("theirs", "wide", sizes.wide), code: await time("ours-code", "wide", sizes.wide), dag: await time("ours-dag", "wide", sizes.wide), dagSpaced: await time("ours-dag", "wide", sizes.wide, 10) },
    map: { dag: await time("ours-dag", "map", sizes.wide) },
    deep: { theirs: await time("theirs", "chain", sizes.deep), code: await time("ours-code", "chain", sizes.deep), dag: await time("ours-dag", "chain", sizes.deep) },
  };
}

/**
 * Python steps: one instance of n sequential steps, then many instances at once, run by one Python worker process
 * over loopback; the times come from the instances' logs (create to complete). The engine's overhead per Python step
 * is its time per step less the in-object code-first step's, end to end.
 */
async function python(codePerStep: number) {
  const rounds = quick ? 1 : 3;
  const steps = quick ? 100 : 1000;
  const many = quick ? { instances: 10, steps: 5 } : { instances: 100, steps: 20 };
  const child = startPythonWorker(root, worker.url, many.instances);
  try {
    log(`python: ${steps} sequential steps, then ${many.instances} instances x ${many.steps} steps`);
    await call(`/python?n=10&tag=${tag()}`);
    const sequentialTimes: number[] = [];
    for (let i = 0; i < rounds; i++) sequentialTimes.push((await call<{ ms: number }>(`/python?n=${steps}&tag=${tag()}`)).ms / steps);
    const rates: number[] = [];
    for (let i = 0; i < rounds; i++) rates.push((many.instances * many.steps * 1000) / (await call<{ ms: number }>(`/python?n=${many.steps}&instances=${many.instances}&tag=${tag()}`)).ms);
    return { steps, many, perStep: median(sequentialTimes), overhead: median(sequentialTimes) - codePerStep, rate: median(rates) };
  } finally {
    await stopPythonWorker(child);
  }
}

const RECOVERY_ENGINES: Engine[] = ["theirs", "ours-code", "ours-machine", "ours-machine-nosnap"];

async function prepareRecovery() {
  const lengths = quick ? [10, 100, 1000] : [10, 100, 1000, 5000];
  log(`recovery: preparing instances of ${lengths.join(", ")} steps, each waiting for an event`);
  const prepared: { engine: Engine; steps: number; id: string; records?: number }[] = [];
  for (const steps of lengths) {
    for (const engine of RECOVERY_ENGINES) {
      const id = `rec-${engine}-${steps}`;
      const { records } = await call<{ records?: number }>(`/prepare?engine=${engine}&n=${steps}&tag=${id}`);
      prepared.push({ engine, steps, id, records });
    }
  }
  return { lengths, prepared };
}

async function recover(prepared: Awaited<ReturnType<typeof prepareRecovery>>) {
  log("recovery: restarting workerd and waking each instance");
  const wakes = new Map<string, number[]>();
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    await worker.stop();
    await start();
    for (const { engine, id } of prepared.prepared) {
      const { ms } = await call<{ ms: number }>(`/wake?engine=${engine}&tag=${id}`);
      wakes.set(id, [...(wakes.get(id) ?? []), ms]);
    }
  }
  return prepared.prepared.map((entry) => ({ ...entry, ms: median(wakes.get(entry.id)!) }));
}

const ISOLATES = { ours: "core:user:durable-machines-bench", theirs: "workflows:their-chain" };

async function sessions(): Promise<Record<keyof typeof ISOLATES, InspectorSession>> {
  const targets = await inspectorTargets(worker.inspector!);
  const open = async (id: string) => {
    const target = targets.find((candidate) => candidate.id === id);
    if (!target) throw new Error(`workerd's inspector lists no ${id}; it lists ${targets.map((candidate) => candidate.id).join(", ")}.`);
    return InspectorSession.open(target);
  };
  return { ours: await open(ISOLATES.ours), theirs: await open(ISOLATES.theirs) };
}

/**
 * Memory per idle instance (ran one step, waits for an event), each engine in a fresh workerd with its inspector on.
 * First workerd's resident memory before and after `count` instances (what lives outside the heaps counts too: each
 * object's SQLite database among it); then, since forcing a collection (by a heap snapshot) moves resident memory,
 * each isolate's heap after a full collection, before and after `count` more (ours: our Worker's isolate, which hosts
 * our objects; theirs: their engine's isolate, plus our Worker's, where their run() waits).
 */
async function memory() {
  const count = quick ? 20 : 100;
  const results: Record<string, { heapOurs: number; heapTheirs: number; rss: number }> = {};
  for (const engine of ["ours-code", "ours-machine", "theirs"] as const) {
    log(`memory: ${count} idle ${engine} instances in a fresh workerd, twice`);
    await worker.stop();
    await start(true);
    await call(`/idle?engine=${engine}&n=1&instances=2&tag=${tag()}`);
    const rssBefore = workerdRss();
    await call(`/idle?engine=${engine}&n=1&instances=${count}&tag=${tag()}`);
    const rss = ((workerdRss() - rssBefore) * 1024) / count;
    const inspect = await sessions();
    try {
      const heapBefore = { ours: await inspect.ours.heapUsed(), theirs: await inspect.theirs.heapUsed() };
      await call(`/idle?engine=${engine}&n=1&instances=${count}&tag=${tag()}`);
      const heapAfter = { ours: await inspect.ours.heapUsed(), theirs: await inspect.theirs.heapUsed() };
      results[engine] = { heapOurs: (heapAfter.ours - heapBefore.ours) / count, heapTheirs: (heapAfter.theirs - heapBefore.theirs) / count, rss };
    } finally {
      inspect.ours.close();
      inspect.theirs.close();
    }
  }
  // A large DAG's instance: its heap once it has run, still loaded, beyond what its definition keeps for every instance (a first instance
  // makes that); inspector calls wait while a run holds the isolate, so its peak is not seen.
  const dagTasks = quick ? 100 : 1000;
  log(`memory: one ${dagTasks}-task wide DAG in a fresh workerd`);
  await worker.stop();
  await start(true);
  const inspect = await sessions();
  let dagHeap: number;
  try {
    await runOnce("ours-dag", dagTasks, { workload: "wide" });
    const before = await inspect.ours.heapUsed();
    await runOnce("ours-dag", dagTasks, { workload: "wide" });
    dagHeap = (await inspect.ours.heapUsed()) - before;
  } finally {
    inspect.ours.close();
    inspect.theirs.close();
  }
  return { count, results, dagTasks, dagHeap };
}

/**
 * Where our step's time goes: a CPU profile (sampled every 50 µs) of our Worker's isolate while one instance runs
 * its steps (create, then the last step's report: nothing is read), in a fresh workerd with the inspector attached,
 * which slows it a little; and where a creation's goes, while many instances are created at once. Ours runs wholly in that isolate. Cloudflare's engine is not profiled: it runs in two
 * isolates on workerd's one thread, and each isolate's profile counts the time the other runs as its own; its CPU
 * per step is in the sequential tables.
 */
async function profile() {
  await worker.stop();
  await start(true);
  const files = bundleFiles(readFileSync(bundle.scriptPath, "utf8"));
  const inspect = await sessions();
  const results: Record<string, { what: string; n: number; wallUs: number; split: ProfileSplit }> = {};
  const urlOf = (sampled: CpuProfile) => sampled.nodes.map((node) => node.callFrame.url).find((candidate) => candidate.endsWith(".js") && !candidate.includes(":")) ?? "";
  try {
    for (const engine of ["ours-code", "ours-machine"] as const) {
      const n = quick ? 1000 : 10_000;
      log(`profile: ${engine}, ${n} steps`);
      await runOnce(engine, 100);
      const { result, profile: sampled } = await inspect.ours.profile(50, () => call<{ start: number; last: number }>(`/steps?engine=${engine}&n=${n}&tag=${tag()}`));
      results[engine] = { what: "step", n, wallUs: ((result.last - result.start) * 1000) / n, split: splitProfile(sampled, { url: urlOf(sampled), files }) };
    }
    const count = quick ? 20 : 200;
    log(`profile: creating ${count} code-first instances at once`);
    await call(`/create?engine=ours-code&instances=10&tag=${tag()}`);
    const { result, profile: sampled } = await inspect.ours.profile(50, () => call<{ ms: number }>(`/create?engine=ours-code&instances=${count}&tag=${tag()}`));
    results["ours-code creation"] = { what: "creation", n: count, wallUs: (result.ms * 1000) / count, split: splitProfile(sampled, { url: urlOf(sampled), files }) };
  } finally {
    inspect.ours.close();
    inspect.theirs.close();
  }
  return results;
}

/**
 * The cross-check: bench/crosscheck/worker.ts, a Worker with no code of ours, creates an instance of Cloudflare's
 * engine and reads its status every `poll` ms until it is complete, in its own workerd. Its runs take turns with the
 * bench's own runs of the same workflow, so both see the same machine (the load on a shared machine drifts).
 */
async function crosscheck() {
  const n = quick ? 100 : mainSteps;
  const poll = quick ? 10 : 100;
  const rounds = quick ? 2 : 3;
  log(`crosscheck: ${n} steps in a minimal Worker (status read every ${poll} ms), taking turns with the bench's runs`);
  const crossBundle = await bundleCrosscheckWorker(root);
  const crossPersist = mkdtempSync(join(tmpdir(), "dm-bench-crosscheck-"));
  const cross = await startCrosscheckWorker(crossBundle.scriptPath, { root, persistTo: crossPersist, vars: {} });
  try {
    const minimal = async (names: Names, steps: number) => {
      const response = await cross.fetch(`/?n=${steps}&names=${names}&poll=${poll}`);
      const body = (await response.json()) as { perStep: number; stepUs: number; error?: string };
      if (body.error) throw new Error(`crosscheck: ${body.error}`);
      return body;
    };
    await minimal("one", 50);
    const results = {} as Record<Names, { minimal: number; minimalStepUs: number; bench: number; benchStepUs: number }>;
    for (const names of ["one", "unique"] as const) {
      const pairs: { minimal: { perStep: number; stepUs: number }; bench: Run }[] = [];
      for (let i = 0; i < rounds; i++) pairs.push({ bench: await runOnce("theirs", n, { names }), minimal: await minimal(names, n) });
      const bench = splitOf(pairs.map((pair) => pair.bench));
      results[names] = { minimal: median(pairs.map((pair) => pair.minimal.perStep)), minimalStepUs: median(pairs.map((pair) => pair.minimal.stepUs)), bench: bench.perStep, benchStepUs: bench.stepUs };
    }
    return { n, poll, rounds, results };
  } finally {
    await cross.stop();
    crossBundle.remove();
    rmSync(crossPersist, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Printing.

const fmt = (value: number | null | undefined): string =>
  value === null || value === undefined || Number.isNaN(value) ? "n/a" : Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
const times = (value: number | null | undefined) => (value === null || value === undefined || Number.isNaN(value) ? "n/a" : `${fmt(value)}x`);
const better = (ours: number | undefined, theirs: number | undefined, lowerIsBetter: boolean) => (ours === undefined || theirs === undefined ? undefined : lowerIsBetter ? theirs / ours : ours / theirs);

const printed: string[] = [];
function table(title: string, header: string[], rows: (string | number | undefined)[][], how: string): void {
  const cell = (value: string | number | undefined) => (typeof value === "number" ? fmt(value) : (value ?? ""));
  const text = [`### ${title}`, "", `| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`), "", how, ""].join("\n");
  printed.push(text);
}

async function main() {
  const started = Date.now();
  const load = { start: loadavg()[0]!, end: 0 };
  const workerdVersion = JSON.parse(readFileSync(join(root, "node_modules/wrangler/node_modules/workerd/package.json"), "utf8")).version as string;
  const wranglerVersion = JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8")).version as string;
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version, workerd: workerdVersion, wrangler: wranglerVersion, date: new Date().toISOString(), quick };
  await start();

  const results: Record<string, unknown> = {};
  const seq = runs("sequential") ? await sequential() : undefined;
  const con = runs("concurrent") ? await concurrent() : undefined;
  const made = runs("create") ? await creations() : undefined;
  const stored = runs("storage") ? await storage() : undefined;
  const dag = runs("dags") ? await dags() : undefined;
  let codePerStep = seq?.curves["ours-code one"]?.[mainSteps]?.perStep;
  if (runs("python") && codePerStep === undefined) codePerStep = splitOf([await runOnce("ours-code", mainSteps), await runOnce("ours-code", mainSteps), await runOnce("ours-code", mainSteps)]).perStep;
  const py = runs("python") ? await python(codePerStep!) : undefined;
  const recovery = runs("recovery") ? await recover(await prepareRecovery()) : undefined;
  const mem = runs("memory") ? await memory() : undefined;
  const prof = runs("profile") ? await profile() : undefined;
  const cross = runs("crosscheck") ? await crosscheck() : undefined;
  await worker.stop();
  load.end = loadavg()[0]!;
  Object.assign(results, { sequential: seq, concurrent: con, create: made, storage: stored, dags: dag, python: py, recovery, memory: mem, profile: prof, crosscheck: cross });

  // The summary: the README's table.
  const curve = (config: string, n = mainSteps) => seq?.curves[config]?.[n];
  const summary: (string | number | undefined)[][] = [];
  if (seq) {
    for (const names of ["one", "unique"] as const) {
      const code = curve(`ours-code ${names}`);
      const theirs = curve(`theirs ${names}`);
      summary.push([`1. one instance, ${mainSteps} sequential steps, ${names === "one" ? "one step name repeated" : "a name per step"}`, "ms per step, create to complete", code?.perStep, names === "one" ? curve("ours-machine one")?.perStep : undefined, theirs?.perStep, times(better(code?.perStep, theirs?.perStep, true)), "≥ 30x"]);
    }
  }
  if (con) {
    const { instances, n } = con.shape;
    const label = `2. ${instances} instances at once, ${n} steps each`;
    const r = con.results;
    summary.push([label, "steps per second", r["ours-code"]!.stepsPerSecond, r["ours-machine"]!.stepsPerSecond, r.theirs!.stepsPerSecond, times(better(r["ours-code"]!.stepsPerSecond, r.theirs!.stepsPerSecond, false)), "≥ 10x"]);
    summary.push([`${label}: p50 create to complete`, "ms", r["ours-code"]!.p50, r["ours-machine"]!.p50, r.theirs!.p50, times(better(r["ours-code"]!.p50, r.theirs!.p50, true)), ""]);
    summary.push([`${label}: p99 create to complete`, "ms", r["ours-code"]!.p99, r["ours-machine"]!.p99, r.theirs!.p99, times(better(r["ours-code"]!.p99, r.theirs!.p99, true)), ""]);
  }
  if (made) summary.push([`3. creating ${made.count} instances at once`, "creations per second", made.engines["ours-code"]!.perSecond, made.engines["ours-machine"]!.perSecond, made.engines.theirs!.perSecond, times(better(made.engines["ours-code"]!.perSecond, made.engines.theirs!.perSecond, false)), "≥ 2x"]);
  if (recovery) {
    const longest = Math.max(...recovery.map((entry) => entry.steps));
    const wake = (engine: Engine) => recovery.find((entry) => entry.engine === engine && entry.steps === longest);
    summary.push([`4. first answer after a restart, ${longest} steps (${wake("ours-code")?.records ?? "?"} records)`, "ms", wake("ours-code")?.ms, wake("ours-machine")?.ms, wake("theirs")?.ms, times(better(wake("ours-code")?.ms, wake("theirs")?.ms, true)), "≤ 10 ms at 10,000 records"]);
  }
  if (stored) {
    const f = stored.figures;
    summary.push(["5. rows written per step (100-byte output)", "rows", f["ours-code"]!.rowsWritten?.step, f["ours-machine"]!.rowsWritten?.step, `≥ ${fmt(f.theirs!.rowsStored?.step)} (rows stored)`, "", "≤ 2"]);
    summary.push(["5. database bytes per step (100-byte output)", "bytes", f["ours-code"]!.databaseSize?.step, f["ours-machine"]!.databaseSize?.step, f.theirs!.databaseSize?.step, times(better(f["ours-code"]!.databaseSize?.step, f.theirs!.databaseSize?.step, true)), "≤ 500"]);
  }
  if (dag) {
    summary.push([`6. a wide DAG: ${dag.sizes.wide} tasks, no dependencies, 50 at once`, "ms, create to complete", dag.wide.code, `${fmt(dag.wide.dag)} (DAG)`, dag.wide.theirs, `${times(better(dag.wide.dag, dag.wide.theirs, true))} (DAG)`, "≥ 10x"]);
    summary.push([`6. the same ${dag.sizes.wide} steps as one DAG map, 50 at once`, "ms, create to complete", dag.wide.code, `${fmt(dag.map.dag)} (DAG)`, dag.wide.theirs, `${times(better(dag.map.dag, dag.wide.theirs, true))} (DAG)`, ""]);
    summary.push([`6. a deep DAG: a chain of ${dag.sizes.deep} tasks`, "ms, create to complete", dag.deep.code, `${fmt(dag.deep.dag)} (DAG)`, dag.deep.theirs, `${times(better(dag.deep.dag, dag.deep.theirs, true))} (DAG)`, ""]);
  }
  if (py) {
    summary.push([`7. Python: one instance, ${py.steps} sequential steps`, "ms per step", py.perStep, "", "n/a", "", ""]);
    summary.push(["7. Python: engine overhead per step over the in-object code-first step", "ms per step", py.overhead, "", "n/a", "", "≤ 2"]);
    summary.push([`7. Python: ${py.many.instances} instances at once, ${py.many.steps} steps each, one worker`, "steps per second", py.rate, "", "n/a", "", "≥ 500"]);
  }
  if (summary.length) {
    table(
      "Summary",
      ["workload", "unit", "ours (code-first)", "ours (machine)", "theirs (Cloudflare local)", "ratio, code-first vs theirs (>1 = ours better)", "target"],
      summary,
      `Completion: each run's last step reports the time its body ran to a stopwatch object outside both engines; nobody reads either engine before that. The end is each engine's own record of it (our log's last record; the success row of Cloudflare's engine's SQLite log), read after the run. Rows 1 and 2 are create to that end (row 1: the median of ${curveRuns[mainSteps]} runs). Row 3 times create() alone. Row 4 restarts workerd over the same storage and times the first status answer. Row 5 is the growth between a ${stored?.sizes[0]}-step and a ${stored?.sizes[1]}-step run, per step: rows written as Durable Objects bill them (the SQL cursor's rowsWritten, summed over every statement our object runs; Cloudflare's engine cannot be counted that way, so its figure is the rows it keeps, a floor under what it writes) and the database's size (page count times page size). Rows 6 time create to the engine's recorded end (the DAG is read every 1 ms from creation, which ours answers from memory). Row 7: the Python worker's instances' own logs. The tables below split these figures and say how each was measured.`,
    );
  }

  if (seq) {
    table(
      `Where the time of ${mainSteps} sequential steps goes`,
      ["engine, step names", "create() returns (ms)", "create to first step (ms)", "per step, first to last step (µs)", "last step to recorded end (ms)", "create to recorded end, per step (ms)", "workerd CPU, per step (µs)"],
      SEQUENTIAL.map((config) => {
        const s = curve(configName(config))!;
        return [configName(config), s.createCall, s.toFirst, s.stepUs, s.tail, s.perStep, s.cpuUs];
      }),
      `Medians of ${curveRuns[mainSteps]} runs. create() returns: our create answers only once the object has run its steps (it answers nothing while they run), so it is near the whole run; Cloudflare's returns at once. Per step: from the first step's body (its output is the time it ran) to the last's (its report), pooled over the runs. Last step to recorded end: the last step's body to the engine's own record of the end. workerd CPU: the process's CPU time (all threads) over the whole call, create to the reads after the end, per step; where it is well under the wall time per step, the engine waits (or the machine's other work took the cores).`,
    );
    const spacingRows: (string | number | undefined)[][] = [
      [`${mainSteps} sequential steps: create to recorded end, per step (ms)`, "1 ms apart, after the last step's report", curve("ours-code one")?.perStep, curve("theirs one")?.perStep],
      ["", "10 ms apart, after the last step's report", seq.spaced["ours-code"]?.perStep, seq.spaced.theirs?.perStep],
      [`${mainSteps} sequential steps: create to the read that saw the end, per step (ms)`, "1 ms apart, after the last step's report", curve("ours-code one")?.seenPerStep, curve("theirs one")?.seenPerStep],
      ["", "10 ms apart, after the last step's report", seq.spaced["ours-code"]?.seenPerStep, seq.spaced.theirs?.seenPerStep],
      ["", "back to back from creation on (the bench's old watch)", seq.watched["ours-code"]?.seenPerStep, seq.watched.theirs?.seenPerStep],
      ["", "reads the old watch made (median)", seq.watched["ours-code"]?.reads, seq.watched.theirs?.reads],
    ];
    if (dag) {
      spacingRows.push([`a wide DAG of ${dag.sizes.wide} tasks: create to recorded end (ms)`, "1 ms apart from creation on", dag.wide.dag, ""]);
      spacingRows.push(["", "10 ms apart from creation on", dag.wide.dagSpaced, ""]);
    }
    table(
      "Does reading move the figure? The same runs read at different spacings",
      ["figure", "status reads", "ours (code-first)", "theirs"],
      spacingRows,
      `The recorded end comes from each engine's own log, so the reads only tell the bench when to look; read 1 ms or 10 ms apart after the last step's report, the figure stays within the noise (1 ms spacing: ${curveRuns[mainSteps]} runs; 10 ms: ${quick ? 1 : 3}). As the reads saw it, the end is later by up to the spacing. Read back to back from creation on, as the bench used to (${quick ? 1 : 3} runs), Cloudflare's engine slows when the reads get in between its steps (its status() reads its whole log each time); our object answers no read until its run is over, so it sees one. A DAG has no code to report from, so ours is read from creation on; ours answers reads from memory, and its figure does not move either.`,
    );
    table(
      "Per-step cost against the run's length",
      ["engine, step names", ...curveSizes.map((n) => `${n} steps: per step (µs)`), ...curveSizes.map((n) => `${n}: create to end per step (ms)`), ...curveSizes.map((n) => `${n}: workerd CPU per step (µs)`)],
      SEQUENTIAL.map((config) => [configName(config), ...curveSizes.map((n) => seq.curves[configName(config)]?.[n]?.stepUs), ...curveSizes.map((n) => seq.curves[configName(config)]?.[n]?.perStep), ...curveSizes.map((n) => seq.curves[configName(config)]?.[n]?.cpuUs)]),
      `Per step: first step's body to the last's, pooled over ${curveSizes.map((n) => `${curveRuns[n]} runs of ${n}`).join(", ")} (Date.now() moves in whole milliseconds, so the short runs rest on the pool). The end-to-end and CPU columns include the fixed cost per instance (creation, the reads after the end), spread over its steps.`,
    );
  }
  if (con) {
    const r = con.results;
    table(
      `${con.shape.instances} instances at once, ${con.shape.n} steps each, split`,
      ["engine", "steps per second", "p50 (ms)", "p99 (ms)", "create to first step, median (ms)", "an instance's first to last step, per step (ms)", "last step to recorded end, median (ms)", "workerd CPU per step (µs)"],
      (["theirs", "ours-code", "ours-machine"] as const).map((engine) => [engine, r[engine]!.stepsPerSecond, r[engine]!.p50, r[engine]!.p99, r[engine]!.split.toFirst, r[engine]!.split.stepUs / 1000, r[engine]!.split.tail, r[engine]!.split.cpuUs]),
      `The middle of ${quick ? 1 : 3} rounds by throughput. Steps per second: every step of every instance over the first create to the last recorded end. An instance's steps wait behind the other instances' creation and steps, which the last columns show: its first step's wait, and the time between its steps.`,
    );
  }
  if (made) {
    table(
      `Creating ${made.count} instances at once, and the floors under a step and a creation in this workerd`,
      ["what", "unit", "figure", "workerd CPU (µs each)"],
      [
        ["theirs: creating instances", "per second", made.engines.theirs!.perSecond, made.engines.theirs!.cpuUs],
        ["ours (code-first): creating instances", "per second", made.engines["ours-code"]!.perSecond, made.engines["ours-code"]!.cpuUs],
        ["ours (machine): creating instances", "per second", made.engines["ours-machine"]!.perSecond, made.engines["ours-machine"]!.cpuUs],
        ["floor: a new bare Durable Object's first answer", "per second", made.bare.perSecond, made.bare.cpuUs],
        ["floor: a new bare Durable Object writing one row", "per second", made.bareWrite.perSecond, made.bareWrite.cpuUs],
        ["floor: a step as await + one INSERT, commits coalesced", "µs per step", made.floor.coalesced, ""],
        ["floor: a step as await + one INSERT + waiting for its commit", "µs per step", made.floor.each, ""],
      ],
      `Creating: median of ${quick ? 1 : 5} rounds after a warm-up of 10; create() of instances that run no step and wait for an event. The floors are a class with no engine (bench/worker.ts, Floor): new objects called the same way, and one object doing the least a durable step needs, ${made.floorSteps} times (waiting for each commit: ${Math.min(made.floorSteps, 2000)} times). workerd CPU: the process's CPU time over the rounds, per creation; the rest of a creation's wall time is waiting (for the object, its database file, the registry).`,
    );
  }
  if (stored) {
    const f = stored.figures;
    const row = (engine: string, label: string) => [label, f[engine]!.rowsWritten?.step, f[engine]!.rowsStored?.step, f[engine]!.databaseSize?.step, f[engine]!.logicalBytes?.step, f[engine]!.rowsWritten?.fixed, f[engine]!.rowsStored?.fixed, f[engine]!.databaseSize?.fixed];
    table(
      "Storage per step (100-byte outputs)",
      ["engine", "rows written per step", "rows kept per step", "database bytes per step", "log and snapshot bytes per step", "rows written per instance", "rows kept per instance", "database bytes per instance"],
      [row("ours-code", "ours (code-first)"), row("ours-machine", "ours (machine)"), row("theirs", "theirs")],
      `From a ${stored.sizes[0]}-step and a ${stored.sizes[1]}-step run: per step is the difference over the steps between them, per instance what is left at zero steps. Rows written: the SQL cursor's rowsWritten, summed in our object (bench/worker.ts wraps its sql.exec), what Durable Objects bill; not measurable inside Cloudflare's engine, whose rows kept (its log, its key-value pairs and its queue, read from its SQLite file) are a floor under it. Database bytes: page count times page size, what ctx.storage.sql.databaseSize reports; log and snapshot bytes: the engine's own count of its records' bytes.`,
    );
  }
  if (recovery) {
    const lengths = [...new Set(recovery.map((entry) => entry.steps))];
    table(
      "Recovery against log length: first answer after a restart (ms)",
      ["engine", ...lengths.map((steps) => `${steps} steps`)],
      RECOVERY_ENGINES.map((engine) => [engine, ...lengths.map((steps) => recovery.find((entry) => entry.engine === engine && entry.steps === steps)?.ms)]),
      `Median of ${quick ? 1 : 3} restarts of workerd over the same storage; each instance ran its steps and waits for an event; the time is from get() to the first status answer inside the Worker (for Cloudflare's engine, get() reads the status, which reads its whole log). Our records: ${lengths.map((steps) => `${steps} steps = ${recovery.find((entry) => entry.engine === "ours-machine" && entry.steps === steps)?.records} records`).join(", ")}. ours-machine-nosnap takes no snapshots; ours-code snapshots when the records since the last reach half the log.`,
    );
  }
  if (mem) {
    const kib = (bytes: number) => bytes / 1024;
    table(
      `Memory per idle instance (${mem.count} instances that ran one step and wait for an event)`,
      ["engine", "our Worker's heap (KiB)", "their engine's heap (KiB)", "workerd resident (KiB)"],
      [
        ...(["ours-code", "ours-machine", "theirs"] as const).map((engine) => [engine, kib(mem.results[engine]!.heapOurs), kib(mem.results[engine]!.heapTheirs), kib(mem.results[engine]!.rss)]),
        [`ours: one ${mem.dagTasks}-task wide DAG instance, run to the end and still loaded (beyond its definition's share)`, kib(mem.dagHeap), "", ""],
      ],
      "Each engine in a fresh workerd with its inspector on: the growth of workerd's resident memory over the instances, then of each isolate's heap after a full collection (forced by a heap snapshot) over as many more, divided by the instances. Resident memory is coarse (the allocator keeps freed pages) and holds what lives outside the heaps, each object's SQLite database among it. The DAG row is one instance (its peak while it runs cannot be read: the run holds the isolate, and the inspector waits).",
    );
  }
  if (prof) {
    for (const [name, result] of Object.entries(prof)) {
      const { split, n, what } = result;
      const perUnit = `µs per ${what}`;
      const top = Object.entries(split.groups).sort((a, b) => b[1] - a[1]).slice(0, 14);
      const files = Object.entries(split.files).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([file, us]) => `${file} ${fmt(us / n)}`).join(", ");
      const natives = Object.entries(split.natives).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([native, us]) => `${native} ${fmt(us / n)}`).join(", ");
      const sql = Object.entries(split.sqlCallers).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([caller, us]) => `${caller} ${fmt(us / n)}`).join(", ");
      const how = `Self time from a CPU profile of our isolate sampled every 50 µs, grouped by the bundle's source file (core/, runtime/, adapters/, each package) or by the runtime's own work; "workerd (program)" is workerd's code between JavaScript calls (I/O, RPC, the event loop). V8's helper threads (compilation, concurrent marking) are not sampled. Top files (${perUnit}): ${files}. Top runtime functions: ${natives}. The SQL API's time by the code that ran the statement: ${sql}.`;
      if (what === "step") {
        table(
          `Where our step's time goes: ${name}, ${n} steps (µs per step)`,
          ["where", perUnit, "share of sampled time"],
          [["wall time, create to last step, per step", result.wallUs, ""], ["sampled in our isolate", split.busyUs / n, "100%"], ...top.map(([group, us]) => [group, us / n, `${((us / split.busyUs) * 100).toFixed(0)}%`])],
          how,
        );
      } else {
        table(
          `Where our creation's time goes: ${n} code-first instances at once (µs per creation)`,
          ["where", perUnit, "share of sampled time"],
          [
            ["wall time, all the creations, per creation", result.wallUs, ""],
            ["sampled in our isolate", split.busyUs / n, "100%"],
            ...top.map(([group, us]) => [group, us / n, `${((us / split.busyUs) * 100).toFixed(0)}%`]),
            ...Object.entries(split.sqlCallers).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([caller, us]) => [`of the SQL API: run by ${caller}`, us / n, `${((us / split.busyUs) * 100).toFixed(0)}%`]),
          ],
          `Most of a creation is workerd's own work of making the new object (its actor and SQLite database; the bare-object floor above costs about as much CPU), done inside the JavaScript call that first reaches the object, so the profile counts it as that caller's self time (the client's create, in adapters/worker). The SQL API's time is split by the code that ran each statement; the registry's run in its one object per workflow. ${how}`,
        );
      }
    }
  }
  if (cross) {
    const rows = (["one", "unique"] as const).map((names) => {
      const { minimal, minimalStepUs, bench, benchStepUs } = cross.results[names];
      const difference = minimal / bench - 1;
      return [names === "one" ? "one step name repeated" : "a name per step", minimal, bench, `${difference >= 0 ? "+" : ""}${(difference * 100).toFixed(0)}%`, Math.abs(difference) <= 0.2 ? "yes" : "NO", minimalStepUs, benchStepUs];
    });
    table(
      `Cross-check: Cloudflare's engine, ${cross.n} sequential steps, by a minimal Worker with no code of ours`,
      ["step names", "minimal Worker: create to complete (ms per step)", "the bench (ms per step)", "difference", "within 20%", "minimal Worker: first to last step (µs per step)", "the bench: first to last step (µs per step)"],
      rows,
      `bench/crosscheck/worker.ts creates an instance and reads its status every ${cross.poll} ms until it is complete, in its own workerd; its runs take turns with the bench's (medians of ${cross.rounds} each). Its create-to-complete figure is high by up to one poll (${cross.poll} ms over ${cross.n} steps) plus what its reads cost the engine; its workflow also returns when its first and last steps ran, which gives the step cost with no reads in it.`,
    );
  }
  const elapsed = Math.round((Date.now() - started) / 1000);
  console.log(`\n${machine.cores} cores (${machine.cpu}), workerd ${workerdVersion}, wrangler ${wranglerVersion}, Node ${machine.node}, ${machine.date}${quick ? " (quick run: not for quoting)" : ""}`);
  console.log(`Load average (1 min): ${load.start.toFixed(2)} at the start, ${load.end.toFixed(2)} at the end${load.start > 0.5 || load.end > 1.5 ? " (the machine was busy before the run, or other work ran beside it: figures may be noisy)" : ""}; the run took ${Math.floor(elapsed / 60)} min ${elapsed % 60} s.\n`);
  console.log(printed.join("\n"));
  if (!quick && !only) writeFileSync(join(root, "bench/results/latest.json"), JSON.stringify({ machine: { ...machine, load, seconds: elapsed }, results, tables: printed }, null, 2) + "\n");
}

try {
  await main();
} finally {
  rmSync(persistTo, { recursive: true, force: true });
  bundle.remove();
}
