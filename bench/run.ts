/**
 * `npm run bench`: bundles bench/worker.ts and starts it in workerd through
 * Miniflare's API (bench/workerd.ts), with both engines bound (ours, and
 * Cloudflare's local Workflows engine through a [[workflows]] binding) and no
 * proxy in front of it, as in production; restarts workerd over the same
 * persisted state for the recovery rows; runs each workload after a warm-up,
 * takes the median of several runs, prints one table and writes
 * bench/results/latest.json.
 * Set BENCH_QUICK=1 for a short run that only checks the harness, and
 * BENCH_ONLY=dags or BENCH_ONLY=python to run the DAG or Python workloads alone (neither writes the results).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { PYTHON_WORKER_TOKEN, startPythonWorker, stopPythonWorker } from "./python.ts";
import { bundleBenchWorker, startBenchWorker, type BenchWorker } from "./workerd.ts";

process.env.WRANGLER_SEND_METRICS = "false";
const quick = process.env.BENCH_QUICK === "1";
const dagsOnly = process.env.BENCH_ONLY === "dags";
const pythonOnly = process.env.BENCH_ONLY === "python";
const root = new URL("..", import.meta.url).pathname;
const persistTo = mkdtempSync(join(tmpdir(), "dm-bench-"));
const bundle = await bundleBenchWorker(root);

type Engine = "theirs" | "ours-code" | "ours-machine" | "ours-machine-nosnap" | "ours-dag";
type Worker = BenchWorker;

async function start(): Promise<Worker> {
  const worker = await startBenchWorker(bundle.scriptPath, { root, persistTo, vars: { API_TOKEN: "bench-api-token", PYTHON_WORKER_TOKEN } });
  await call(worker, "/ping");
  return worker;
}

async function call<T = Record<string, unknown>>(worker: Worker, path: string): Promise<T> {
  const response = await worker.fetch(path);
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok || body.error) throw new Error(`${path}: ${body.error ?? response.status}`);
  return body;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;
let tags = 0;
const tag = () => `t${++tags}`;

interface Row {
  workload: string;
  unit: string;
  ours: number;
  machine?: number;
  theirs: number | null;
  /** ours against theirs, oriented so that above 1 means ours is better. */
  ratio: number | null;
  note?: string;
}

const rows: Row[] = [];
const better = (ours: number, theirs: number | null, lowerIsBetter: boolean) => (theirs === null ? null : lowerIsBetter ? theirs / ours : ours / theirs);

async function sequential(worker: Worker, engine: Engine, n: number, runs: number): Promise<number> {
  await call(worker, `/complete?engine=${engine}&n=${Math.min(n, 50)}&tag=${tag()}`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await call<{ ms: number }>(worker, `/complete?engine=${engine}&n=${n}&tag=${tag()}`)).ms / n);
  return median(times);
}

async function concurrent(worker: Worker, engine: Engine, instances: number, n: number, runs: number) {
  await call(worker, `/concurrent?engine=${engine}&instances=${Math.min(instances, 10)}&n=${n}&tag=${tag()}`);
  const results: { stepsPerSecond: number; p50: number; p99: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const { ms, durations } = await call<{ ms: number; durations: number[] }>(worker, `/concurrent?engine=${engine}&instances=${instances}&n=${n}&tag=${tag()}`);
    results.push({ stepsPerSecond: (instances * n * 1000) / ms, p50: percentile(durations, 50), p99: percentile(durations, 99) });
  }
  return { stepsPerSecond: median(results.map((r) => r.stepsPerSecond)), p50: median(results.map((r) => r.p50)), p99: median(results.map((r) => r.p99)) };
}

async function creations(worker: Worker, engine: Engine, instances: number, runs: number): Promise<number> {
  await call(worker, `/create?engine=${engine}&instances=10&tag=${tag()}`);
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) rates.push((instances * 1000) / (await call<{ ms: number }>(worker, `/create?engine=${engine}&instances=${instances}&tag=${tag()}`)).ms);
  return median(rates);
}

/** Milliseconds from create to complete for one instance; the warm-up runs the same size, since a DAG's size is part of its definition. */
async function complete(worker: Worker, engine: Engine, workload: "chain" | "wide" | "map", n: number, runs: number): Promise<number> {
  await call(worker, `/complete?engine=${engine}&workload=${workload}&n=${n}&tag=${tag()}`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await call<{ ms: number }>(worker, `/complete?engine=${engine}&workload=${workload}&n=${n}&tag=${tag()}`)).ms);
  return median(times);
}

/**
 * DAGs against the code a code-first engine runs for the same work: n
 * independent steps, 50 at a time (Promise.all batches; the DAG's
 * maxConcurrency, or a map's concurrency), and a chain of steps (in a row;
 * each task needing the one before).
 */
async function dags(worker: Worker): Promise<Row[]> {
  const runs = quick ? 1 : 3;
  const sizes = quick ? { wide: 100, deep: 20 } : { wide: 1000, deep: 200 };
  const note = "ours (machine) is the DAG, and the ratio compares it with theirs; ours (code-first) and theirs run the same class: Promise.all in batches of 50, or steps in a row";
  const row = (label: string, code: number, dag: number, theirs: number): Row => ({ workload: label, unit: "ms, create to complete", ours: code, machine: dag, theirs, ratio: better(dag, theirs, true), note });

  console.error(`6/6 DAGs: ${sizes.wide} independent steps`);
  const wide = { theirs: await complete(worker, "theirs", "wide", sizes.wide, runs), code: await complete(worker, "ours-code", "wide", sizes.wide, runs) };
  const tasks = await complete(worker, "ours-dag", "wide", sizes.wide, runs);
  const map = await complete(worker, "ours-dag", "map", sizes.wide, runs);
  console.error(`6/6 DAGs: a chain of ${sizes.deep}`);
  const deep = { theirs: await complete(worker, "theirs", "chain", sizes.deep, runs), code: await complete(worker, "ours-code", "chain", sizes.deep, runs) };
  const chain = await complete(worker, "ours-dag", "chain", sizes.deep, runs);
  return [
    row(`6. a wide DAG: ${sizes.wide} tasks, no dependencies, 50 at once`, wide.code, tasks, wide.theirs),
    row(`6. the same ${sizes.wide} steps as one DAG map, 50 at once`, wide.code, map, wide.theirs),
    row(`6. a deep DAG: a chain of ${sizes.deep} tasks`, deep.code, chain, deep.theirs),
  ];
}

/**
 * Python steps: one instance of n sequential steps, then many instances at once, run by one Python worker process
 * over loopback. The engine's overhead per Python step is its time per step less the in-object code-first step's.
 */
async function python(worker: Worker, codePerStep: number): Promise<Row[]> {
  const runs = quick ? 1 : 3;
  const steps = quick ? 100 : 1000;
  const many = quick ? { instances: 10, steps: 5 } : { instances: 100, steps: 20 };
  const child = startPythonWorker(root, worker.url, many.instances);
  try {
    console.error(`7/7 Python: ${steps} sequential steps, then ${many.instances} instances x ${many.steps} steps`);
    await call(worker, `/python?n=10&tag=${tag()}`);
    const sequentialTimes: number[] = [];
    for (let i = 0; i < runs; i++) sequentialTimes.push((await call<{ ms: number }>(worker, `/python?n=${steps}&tag=${tag()}`)).ms / steps);
    const perStep = median(sequentialTimes);
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { ms } = await call<{ ms: number }>(worker, `/python?n=${many.steps}&instances=${many.instances}&tag=${tag()}`);
      rates.push((many.instances * many.steps * 1000) / ms);
    }
    const note = "one Python worker process over loopback; times from the instances' logs (create to complete). Theirs: Cloudflare runs Python only in Pyodide, which cannot run here";
    return [
      { workload: `7. Python: one instance, ${steps} sequential steps`, unit: "ms per step", ours: perStep, theirs: null, ratio: null, note },
      { workload: "7. Python: engine overhead per step over the in-object code-first step", unit: "ms per step", ours: perStep - codePerStep, theirs: null, ratio: null, note: "target at most 2 ms" },
      { workload: `7. Python: ${many.instances} instances at once, ${many.steps} steps each, one worker`, unit: "steps per second", ours: median(rates), theirs: null, ratio: null, note: "target at least 500" },
    ];
  } finally {
    await stopPythonWorker(child);
  }
}

function printTable(machine: { cpu: string; date: string }, workerdVersion: string, wranglerVersion: string): void {
  const fmt = (value: number | null | undefined) => (value === null || value === undefined ? "n/a" : value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
  const table = [
    "| workload | unit | ours (code-first) | ours (machine) | theirs (Cloudflare local) | ratio, code-first vs theirs (>1 = ours better) |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.workload} | ${r.unit} | ${fmt(r.ours)} | ${fmt(r.machine)} | ${fmt(r.theirs)} | ${r.ratio === null ? "n/a" : `${fmt(r.ratio)}x`} |`),
  ].join("\n");
  console.log(`\n${cpus().length} cores (${machine.cpu}), workerd ${workerdVersion}, wrangler ${wranglerVersion}, ${machine.date}${quick ? " (quick run)" : ""}\n`);
  console.log(table);
}

function bytesUnder(dir: string, match: (path: string) => boolean): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(path, match);
    else if (match(path)) total += statSync(path).size;
  }
  return total;
}

async function main() {
  const runs = quick ? 1 : 5;
  const sequentialSteps = quick ? 100 : 1000;
  const concurrency = quick ? { instances: 20, steps: 5 } : { instances: 200, steps: 20 };
  const recoverySteps = quick ? [50, 500] : [500, 5000];
  const workerdVersion = JSON.parse(readFileSync(join(root, "node_modules/wrangler/node_modules/workerd/package.json"), "utf8").toString()).version as string;
  const wranglerVersion = JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8")).version as string;
  let worker = await start();
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version, workerd: workerdVersion, wrangler: wranglerVersion, date: new Date().toISOString(), quick };

  if (dagsOnly) {
    rows.push(...(await dags(worker)));
    await worker.stop();
    printTable(machine, workerdVersion, wranglerVersion);
    return;
  }

  if (pythonOnly) {
    rows.push(...(await python(worker, await sequential(worker, "ours-code", sequentialSteps, runs))));
    await worker.stop();
    printTable(machine, workerdVersion, wranglerVersion);
    return;
  }

  console.error(`1/5 sequential: ${sequentialSteps} steps`);
  const seq = { theirs: await sequential(worker, "theirs", sequentialSteps, runs), code: await sequential(worker, "ours-code", sequentialSteps, runs), machine: await sequential(worker, "ours-machine", sequentialSteps, runs) };
  rows.push({ workload: `1. one instance, ${sequentialSteps} sequential steps`, unit: "ms per step", ours: seq.code, machine: seq.machine, theirs: seq.theirs, ratio: better(seq.code, seq.theirs, true) });

  console.error(`2/5 concurrent: ${concurrency.instances} instances x ${concurrency.steps} steps`);
  const concurrentRuns = quick ? 1 : 3;
  const con = {
    theirs: await concurrent(worker, "theirs", concurrency.instances, concurrency.steps, concurrentRuns),
    code: await concurrent(worker, "ours-code", concurrency.instances, concurrency.steps, concurrentRuns),
    machine: await concurrent(worker, "ours-machine", concurrency.instances, concurrency.steps, concurrentRuns),
  };
  const label = `2. ${concurrency.instances} instances at once, ${concurrency.steps} steps each`;
  rows.push({ workload: label, unit: "steps per second", ours: con.code.stepsPerSecond, machine: con.machine.stepsPerSecond, theirs: con.theirs.stepsPerSecond, ratio: better(con.code.stepsPerSecond, con.theirs.stepsPerSecond, false) });
  rows.push({ workload: `${label}: p50 create to complete`, unit: "ms", ours: con.code.p50, machine: con.machine.p50, theirs: con.theirs.p50, ratio: better(con.code.p50, con.theirs.p50, true) });
  rows.push({ workload: `${label}: p99 create to complete`, unit: "ms", ours: con.code.p99, machine: con.machine.p99, theirs: con.theirs.p99, ratio: better(con.code.p99, con.theirs.p99, true) });

  console.error("3/5 creations");
  const createCount = quick ? 20 : 200;
  const made = { theirs: await creations(worker, "theirs", createCount, runs), code: await creations(worker, "ours-code", createCount, runs), machine: await creations(worker, "ours-machine", createCount, runs) };
  rows.push({ workload: `3. creating ${createCount} instances at once`, unit: "creations per second", ours: made.code, machine: made.machine, theirs: made.theirs, ratio: better(made.code, made.theirs, false) });

  const dagRows = await dags(worker);
  const pythonRows = await python(worker, seq.code);

  console.error("4/5 recovery: preparing instances");
  const engines: Engine[] = ["ours-machine", "ours-machine-nosnap", "ours-code", "theirs"];
  const prepared: { engine: Engine; steps: number; id: string; records: number }[] = [];
  for (const steps of recoverySteps) {
    for (const engine of engines) {
      const id = `rec-${engine}-${steps}`;
      const { footprint } = await call<{ footprint?: { records: number } }>(worker, `/prepare?engine=${engine}&n=${steps}&tag=${id}`);
      prepared.push({ engine, steps, id, records: footprint?.records ?? 0 });
    }
  }

  console.error("5/5 footprint");
  const footprintSteps = quick ? 100 : 1000;
  const footprint: Partial<Record<Engine, number>> = {};
  for (const engine of ["ours-machine", "ours-code"] as const) {
    const { footprint: bytes } = await call<{ footprint: { log: number; snapshots: number } }>(worker, `/prepare?engine=${engine}&n=${footprintSteps}&bytes=100&tag=foot-${engine}`);
    footprint[engine] = (bytes.log + bytes.snapshots) / footprintSteps;
  }
  // Miniflare keeps Cloudflare's engine's SQLite files under v3/workflows/<workflow>/, and our objects' under v3/do/<worker>-<class>/.
  const isTheirs = (path: string) => path.startsWith(join(persistTo, "v3", "workflows"));
  const before = bytesUnder(persistTo, isTheirs);
  await call(worker, `/prepare?engine=theirs&n=${footprintSteps}&bytes=100&tag=foot-theirs`);
  footprint.theirs = (bytesUnder(persistTo, isTheirs) - before) / footprintSteps;

  console.error("4/5 recovery: restarting workerd and waking each instance");
  const wakes = new Map<string, number[]>();
  for (let run = 0; run < (quick ? 1 : 3); run++) {
    await worker.stop();
    worker = await start();
    for (const { engine, id } of prepared) {
      const { ms } = await call<{ ms: number }>(worker, `/wake?engine=${engine}&tag=${id}`);
      wakes.set(id, [...(wakes.get(id) ?? []), ms]);
    }
  }
  await worker.stop();
  const wake = (engine: Engine, steps: number) => median(wakes.get(prepared.find((p) => p.engine === engine && p.steps === steps)!.id)!);
  const records = (engine: Engine, steps: number) => prepared.find((p) => p.engine === engine && p.steps === steps)!.records;
  for (const steps of recoverySteps) {
    rows.push({
      workload: `4. first answer after a restart, ${steps} steps (${records("ours-machine", steps)} records), snapshots on`,
      unit: "ms",
      ours: wake("ours-code", steps),
      machine: wake("ours-machine", steps),
      theirs: wake("theirs", steps),
      ratio: better(wake("ours-code", steps), wake("theirs", steps), true),
      note: "code-first takes no snapshots: it replays run() from the log",
    });
    rows.push({ workload: `4. the same, snapshots off`, unit: "ms", ours: wake("ours-code", steps), machine: wake("ours-machine-nosnap", steps), theirs: wake("theirs", steps), ratio: better(wake("ours-code", steps), wake("theirs", steps), true) });
  }
  rows.push({
    workload: `5. stored bytes per step, 100-byte output (${footprintSteps} steps)`,
    unit: "bytes",
    ours: footprint["ours-code"]!,
    machine: footprint["ours-machine"]!,
    theirs: footprint.theirs ?? null,
    ratio: better(footprint["ours-code"]!, footprint.theirs ?? null, true),
    note: "ours: log and snapshot bytes as SQLite holds them; theirs: growth of their engine's SQLite files. Object memory: workerd does not report it.",
  });

  rows.push(...dagRows, ...pythonRows);
  printTable(machine, workerdVersion, wranglerVersion);
  if (!quick) writeFileSync(join(root, "bench/results/latest.json"), JSON.stringify({ machine, rows }, null, 2) + "\n");
}

try {
  await main();
} finally {
  rmSync(persistTo, { recursive: true, force: true });
  bundle.remove();
}
