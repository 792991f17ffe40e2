import { assign, setup } from "xstate";
import { dagTasks, defineDag, defineWorkflow, step, WorkflowEntrypoint, type DagTasks, type WorkflowEvent, type WorkflowStep } from "../index";

/**
 * What every benchmark workflow takes: how many trivial steps; how big each step's output (else the time the step's
 * body ran, so the bench reads when the first step ran from the outputs, after the run); whether the steps share one
 * name ("one", the default) or each has its own ("unique"); whether to wait for a `go` event at the end; and the tag
 * under which the last step reports to the stopwatch (bench/stopwatch.ts).
 */
export interface ChainParams {
  n: number;
  bytes?: number;
  names?: "one" | "unique";
  wait?: boolean;
  report?: string;
}

/**
 * Where a workflow reports its last step: the stopwatch, set by bench/worker.ts, the one module that reaches its
 * binding (this file is also type-checked for Node, where `cloudflare:workers` does not exist).
 */
export const stopwatch: { report: (tag: string, at: number) => Promise<void> } = {
  report: async () => {
    throw new Error("bench/worker.ts sets the stopwatch before any workflow runs.");
  },
};

/**
 * Sends the report without waiting for it, so the run goes on as it would unwatched: the stopwatch hears it a moment
 * later (from our object, once the object's output gate lets it out: after its writes so far are durable).
 */
function report(tag: string, at: number): void {
  stopwatch.report(tag, at).catch((error: unknown) => console.error(`The report of ${tag} to the stopwatch failed.`, error));
}

/** A step's body: its output, and for the last step of a reporting run, the report of the time it ran. */
async function stepBody(i: number, params: ChainParams): Promise<number | string> {
  const at = Date.now();
  if (params.report !== undefined && i === params.n - 1) report(params.report, at);
  return params.bytes ? "x".repeat(params.bytes) : at;
}

/** The body both code-first engines run: n steps in a row, then optionally a wait for `go`. */
export async function chain(event: WorkflowEvent<ChainParams>, step: WorkflowStep): Promise<number> {
  const params = event.payload;
  const unique = params.names === "unique";
  for (let i = 0; i < params.n; i++) await step.do(unique ? `step-${i}` : "step", async () => stepBody(i, params));
  if (params.wait) await step.waitForEvent("go", { type: "go", timeout: "1 day" });
  return params.n;
}

/** The same chain written in Python (bench/python_chain.py), its steps run by a Python worker process. */
export const pythonChain = defineWorkflow({ name: "py-chain", python: { leaseMs: 30_000 } });

export class OurChain extends WorkflowEntrypoint<unknown, ChainParams> {
  async run(event: WorkflowEvent<ChainParams>, step: WorkflowStep) {
    return chain(event, step);
  }
}

/** The same work as a machine: a step invoked again and again until n, then a state that waits for `go`. */
const machine = setup({
  types: { context: {} as { i: number; params: ChainParams }, input: {} as ChainParams },
  actors: { tick: step<unknown, { i: number; params: ChainParams }>(async ({ input }) => stepBody(input.i, input.params)) },
}).createMachine({
  id: "chain",
  context: ({ input }) => ({ i: 0, params: input }),
  initial: "check",
  states: {
    check: { always: [{ guard: ({ context }) => context.i < context.params.n, target: "work" }, { guard: ({ context }) => context.params.wait === true, target: "waiting" }, { target: "done" }] },
    work: { invoke: { src: "tick", input: ({ context }) => ({ i: context.i, params: context.params }), onDone: { target: "check", actions: assign({ i: ({ context }) => context.i + 1 }) } } },
    waiting: { on: { go: "done" } },
    done: { type: "final" },
  },
  output: ({ context }) => context.params.n,
});

export const machineChain = defineWorkflow({ name: "machine-chain", machine, steps: { tick: { retries: { limit: 0, delay: 0 } } } });
export const codeChain = defineWorkflow({ name: "code-chain", entrypoint: OurChain });

/** How many steps of the wide workload run at once: a Promise.all batch for code-first engines, maxConcurrency for the DAG. */
export const WIDE_BATCH = 50;

/** Steps of each reporting wide run's last batch still to run their bodies: the one that runs last reports. */
const lastBatchLeft = new Map<string, number>();

/**
 * n independent steps, started WIDE_BATCH at a time with Promise.all, as code-first engines fan out; the next batch
 * starts when the last one has finished. Any step of the last batch may run last, so each counts down and the last
 * one reports (from its body: a report sent from run() just before it returns is dropped with run()'s call in
 * Cloudflare's engine).
 */
export async function wide(event: WorkflowEvent<ChainParams>, step: WorkflowStep): Promise<number> {
  const { n, report: tag } = event.payload;
  for (let first = 0; first < n; first += WIDE_BATCH) {
    const batch = Array.from({ length: Math.min(WIDE_BATCH, n - first) }, (_, k) => first + k);
    const last = first + WIDE_BATCH >= n;
    if (last && tag !== undefined) lastBatchLeft.set(tag, batch.length);
    await Promise.all(
      batch.map((i) =>
        step.do(`t${i}`, async () => {
          if (last && tag !== undefined && lastBatchLeft.has(tag)) {
            const left = lastBatchLeft.get(tag)! - 1;
            if (left === 0) {
              lastBatchLeft.delete(tag);
              report(tag, Date.now());
            } else lastBatchLeft.set(tag, left);
          }
          return i;
        }),
      ),
    );
  }
  return n;
}

export class OurWide extends WorkflowEntrypoint<unknown, ChainParams> {
  async run(event: WorkflowEvent<ChainParams>, step: WorkflowStep) {
    return wide(event, step);
  }
}

export const codeWide = defineWorkflow({ name: "code-wide", entrypoint: OurWide });

/** Task names made in a loop are not known to the type checker, so the list is typed loosely. */
type LooseTasks = DagTasks<unknown, unknown, Record<string, number>>;

function trivialTasks(n: number, needs: (i: number) => string[]): LooseTasks {
  let tasks = dagTasks() as unknown as LooseTasks;
  for (let i = 0; i < n; i++) tasks = tasks.task(`t${i}` as never, { needs: needs(i), run: () => i }) as unknown as LooseTasks;
  return tasks;
}

/** The wide workload as a DAG: n tasks that need nothing, at most WIDE_BATCH running at once. */
export const wideDag = (n: number) => defineDag({ name: `dag-wide-${n}`, tasks: trivialTasks(n, () => []), maxConcurrency: WIDE_BATCH, output: () => n });

/** The wide workload as one DAG task's list and a map over it, WIDE_BATCH items at a time: a region per slot, not per item. */
export const mapDag = (n: number) =>
  defineDag({
    name: `dag-map-${n}`,
    tasks: dagTasks()
      .task("list", { run: () => Array.from({ length: n }, (_, i) => i) })
      .map("each", { over: "list", concurrency: WIDE_BATCH, run: (i) => i }),
    output: () => n,
  });

/** The chain as a DAG: n tasks, each needing the one before. */
export const deepDag = (n: number) => defineDag({ name: `dag-deep-${n}`, tasks: trivialTasks(n, (i) => (i ? [`t${i - 1}`] : [])), output: () => n });
