import { assign, setup } from "xstate";
import { dagTasks, defineDag, defineWorkflow, step, WorkflowEntrypoint, type DagTasks, type WorkflowEvent, type WorkflowStep } from "../index";

/** What every benchmark workflow takes: how many trivial steps, how big each step's output, and whether to wait for a `go` event at the end. */
export interface ChainParams {
  n: number;
  bytes?: number;
  wait?: boolean;
}

const outputOf = (i: number, bytes: number | undefined) => (bytes ? "x".repeat(bytes) : i);

/** The body both code-first engines run: n steps in a row, then optionally a wait for `go`. */
export async function chain(event: WorkflowEvent<ChainParams>, step: WorkflowStep): Promise<number> {
  const { n, bytes, wait } = event.payload;
  for (let i = 0; i < n; i++) await step.do("step", async () => outputOf(i, bytes));
  if (wait) await step.waitForEvent("go", { type: "go", timeout: "1 day" });
  return n;
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
  types: { context: {} as { i: number; n: number; bytes: number; wait: boolean }, input: {} as ChainParams },
  actors: { tick: step<unknown, { i: number; bytes: number }>(async ({ input }) => outputOf(input.i, input.bytes)) },
}).createMachine({
  id: "chain",
  context: ({ input }) => ({ i: 0, n: input.n, bytes: input.bytes ?? 0, wait: input.wait ?? false }),
  initial: "check",
  states: {
    check: { always: [{ guard: ({ context }) => context.i < context.n, target: "work" }, { guard: ({ context }) => context.wait, target: "waiting" }, { target: "done" }] },
    work: { invoke: { src: "tick", input: ({ context }) => ({ i: context.i, bytes: context.bytes }), onDone: { target: "check", actions: assign({ i: ({ context }) => context.i + 1 }) } } },
    waiting: { on: { go: "done" } },
    done: { type: "final" },
  },
  output: ({ context }) => context.n,
});

export const machineChain = defineWorkflow({ name: "machine-chain", machine, steps: { tick: { retries: { limit: 0, delay: 0 } } } });
export const codeChain = defineWorkflow({ name: "code-chain", entrypoint: OurChain });

/** How many steps of the wide workload run at once: a Promise.all batch for code-first engines, maxConcurrency for the DAG. */
export const WIDE_BATCH = 50;

/** n independent steps, started WIDE_BATCH at a time with Promise.all, as code-first engines fan out; the next batch starts when the last one has finished. */
export async function wide(event: WorkflowEvent<ChainParams>, step: WorkflowStep): Promise<number> {
  const { n } = event.payload;
  for (let first = 0; first < n; first += WIDE_BATCH) {
    const batch = Array.from({ length: Math.min(WIDE_BATCH, n - first) }, (_, k) => first + k);
    await Promise.all(batch.map((i) => step.do(`t${i}`, async () => i)));
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
