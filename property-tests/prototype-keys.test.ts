import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assign, raise, setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  step,
  WorkflowEntrypoint,
  type InstanceHandle,
  type LogRecord,
  type MemoryHost,
  type WorkflowEvent,
  type WorkflowStep,
} from "../index";

/**
 * Keys and names users choose, drawn from Object.prototype's own property
 * names (with __proto__) and from ordinary strings: idempotency keys, event
 * types, a machine's invoke and timer ids, a code-first run's step, sleep and
 * wait names. On the memory host, across crashes (recovery from snapshots
 * written after every input or two, restored from JSON), every accepted
 * event is recorded once (a repeated key is ignored, a new one is not),
 * every step, timer, sleep and wait runs and replays under its own name, and
 * the run ends with everything it was sent.
 */
const SEED = 20261124;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const settings = { seed: SEED, numRuns: RUNS, endOnFailure: false };

const PROTOTYPE_NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), "__proto__"])];
const names = (...ordinary: string[]) => fc.constantFrom(...PROTOTYPE_NAMES, ...ordinary);

type Op = { op: "send"; type: string; key?: string } | { op: "crash" } | { op: "settle" } | { op: "advance" };

interface Scenario {
  /** Invoke and timer ids of the machine, step and sleep names of the code-first run, in order; repeats allowed. */
  steps: string[];
  /** Event types the sends draw from. */
  types: string[];
  /** Names of the code-first run's waits, one per accepted event. */
  waitNames: string[];
  ops: Op[];
  snapshotEvery: number;
}

const scenarios: fc.Arbitrary<Scenario> = fc
  .record({
    steps: fc.array(names("a", "b"), { minLength: 1, maxLength: 4 }),
    types: fc.uniqueArray(names("go", "ping"), { minLength: 1, maxLength: 3 }),
    sends: fc.array(fc.record({ pick: fc.nat(), key: fc.option(names("k1", "k2"), { nil: undefined }) }), { minLength: 1, maxLength: 8 }),
    others: fc.array(fc.constantFrom<Op>({ op: "crash" }, { op: "settle" }, { op: "advance" }), { maxLength: 10 }),
    order: fc.array(fc.nat(), { maxLength: 18 }),
    waitNames: fc.array(names("w"), { minLength: 8, maxLength: 8 }),
    snapshotEvery: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ steps, types, sends, others, order, waitNames, snapshotEvery }) => {
    // Sends keep their order among themselves; crashes, settles and clock moves fall between them where `order` puts them.
    const ops: Op[] = sends.map(({ pick, key }) => ({ op: "send", type: types[pick % types.length]!, ...(key === undefined ? {} : { key }) }));
    others.forEach((other, i) => ops.splice((order[i] ?? 0) % (ops.length + 1), 0, other));
    return { steps, types, waitNames, ops, snapshotEvery };
  });

/** The sends that must be recorded, in order: those without a key and the first with each key. */
function accepted(scenario: Scenario): { type: string; key?: string; payload: number }[] {
  const seen = new Set<string>();
  return scenario.ops.flatMap((op, payload) => {
    if (op.op !== "send" || (op.key !== undefined && seen.has(op.key))) return [];
    if (op.key !== undefined) seen.add(op.key);
    return [{ type: op.type, ...(op.key === undefined ? {} : { key: op.key }), payload }];
  });
}

/** Which occurrence of its name each entry is, from 1: the `<n>` of its key. */
const occurrences = (list: readonly string[]) => list.map((name, i) => list.slice(0, i + 1).filter((other) => other === name).length);

/**
 * Runs each step, then arms a one-second timer under the same id, then collects every event until `finish`. It
 * collects with a wildcard: XState cannot serialize a transition on an event named like Object.prototype's
 * properties, so defineWorkflow refuses one (core/definition.test.ts); sending such events is what is tested here.
 */
function machineWorkflow({ steps }: Scenario) {
  const states: Record<string, object> = {};
  steps.forEach((name, i) => {
    const next = i + 1 < steps.length ? `step${i + 1}` : "listening";
    states[`step${i}`] = { invoke: { id: name, src: "work", input: `${name}/${i}`, onDone: { target: `timer${i}`, actions: "keep" } } };
    states[`timer${i}`] = { entry: raise({ type: "tick" }, { delay: 1000, id: name }), on: { tick: next } };
  });
  states.listening = { on: { finish: "done", "*": { actions: "collect" } } };
  states.done = { type: "final" };
  const machine = setup({
    types: { context: {} as { outputs: unknown[]; received: unknown[] } },
    actors: { work: step(async ({ input }) => input) },
    actions: {
      keep: assign({ outputs: ({ context, event }) => [...context.outputs, (event as { output?: unknown }).output] }),
      collect: assign({ received: ({ context, event }) => [...context.received, { type: event.type, payload: (event as { payload?: unknown }).payload }] }),
    },
  }).createMachine({ id: "keys", initial: "step0", context: { outputs: [], received: [] }, states, output: ({ context }) => context });
  return defineWorkflow({ name: "machine", machine });
}

interface CodeParams {
  steps: string[];
  waits: { name: string; type: string }[];
}

/** A step and a one-second sleep under each name, then a wait per accepted event, then a wait for `finish`. */
class NamedRun extends WorkflowEntrypoint<unknown, CodeParams> {
  async run(event: WorkflowEvent<CodeParams>, step: WorkflowStep) {
    const outputs: unknown[] = [];
    for (const [i, name] of event.payload.steps.entries()) {
      outputs.push(await step.do(name, async () => `${name}/${i}`));
      await step.sleep(name, 1000);
    }
    const received: unknown[] = [];
    for (const { name, type } of event.payload.waits) {
      const got = await step.waitForEvent(name, { type });
      received.push({ type: got.type, payload: got.payload });
    }
    await step.waitForEvent("finish", { type: "finish" });
    return { outputs, received };
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: MemoryHost) {
  for (let i = 0; i < 4; i++) {
    await flush();
    await host.idle();
  }
}

/** Plays the ops, then moves the clock until every step and timer is through, and sends `finish`. */
async function play(scenario: Scenario, host: MemoryHost, clock: { advance(ms: number): void }, instance: InstanceHandle): Promise<void> {
  for (const [payload, op] of scenario.ops.entries()) {
    if (op.op === "send") await instance.sendEvent({ type: op.type, payload, ...(op.key === undefined ? {} : { idempotencyKey: op.key }) });
    else if (op.op === "crash") host.crash();
    else if (op.op === "settle") await settle(host);
    else clock.advance(1000);
  }
  for (let i = 0; i <= scenario.steps.length; i++) {
    await settle(host);
    clock.advance(1000);
  }
  await settle(host);
  await instance.sendEvent({ type: "finish" });
  await settle(host);
}

const formatLog = (log: readonly LogRecord[]) => log.map((r) => `  ${r.seq} ${r.type} ${JSON.stringify(r.data)}`).join("\n");

function explain(scenario: Scenario, log: readonly LogRecord[], problem: string): string {
  return `${problem}\nscenario ${JSON.stringify(scenario)}\nlog:\n${formatLog(log)}`;
}

/** What the log recorded of the events, and of the steps that succeeded. */
const eventsIn = (log: readonly LogRecord[]) => log.flatMap((r) => (r.type === "event.received" && r.data.type !== "finish" ? [{ type: r.data.type, ...(r.data.idempotencyKey === undefined ? {} : { key: r.data.idempotencyKey }), payload: r.data.payload }] : []));
const succeeded = (log: readonly LogRecord[]) => log.flatMap((r) => (r.type === "step.succeeded" ? [r.data.key] : []));

describe(`keys and names from Object.prototype (fast-check, seed ${SEED})`, () => {
  it("machine: every accepted event is recorded once and collected in order; invokes and timers named so run once each, across crashes and snapshot restores", async () => {
    await fc.assert(
      fc.asyncProperty(scenarios, async (scenario) => {
        const clock = createManualClock();
        const def = machineWorkflow(scenario);
        const host = createMemoryHost({ workflows: [def], clock, snapshotEvery: scenario.snapshotEvery });
        const instance = await host.workflow("machine").create({ id: "subject" });
        await play(scenario, host, clock, instance);
        const log = await instance.history({ limit: 1000 });
        const expected = accepted(scenario);
        const keys = scenario.steps.map((name, i) => `${name}#${occurrences(scenario.steps)[i]}`);
        expect(eventsIn(log), explain(scenario, log, "the recorded events are not the accepted sends")).toEqual(expected);
        expect(succeeded(log), explain(scenario, log, "a step ran under another key, or twice")).toEqual(keys);
        expect(log.flatMap((r) => (r.type === "timer.fired" ? [r.data.id] : [])), explain(scenario, log, "a timer was lost or renamed")).toEqual(keys);
        const status = await instance.status();
        expect(status, explain(scenario, log, "the run did not end with everything it was sent")).toMatchObject({
          status: "complete",
          output: { outputs: scenario.steps.map((name, i) => `${name}/${i}`), received: expected.map(({ type, payload }) => ({ type, payload })) },
        });
        // A host rebuilt from storage alone, its snapshots included, answers the same.
        host.crash();
        expect(await instance.status(), explain(scenario, log, "the rebuilt instance answers differently")).toEqual(status);
      }),
      settings,
    );
  });

  it("code-first: every accepted event is recorded once and reaches its wait; steps, sleeps and waits named so run once each, across crashes", async () => {
    await fc.assert(
      fc.asyncProperty(scenarios, async (scenario) => {
        const clock = createManualClock();
        const host = createMemoryHost({ workflows: [defineWorkflow({ name: "code", entrypoint: NamedRun })], clock });
        const expected = accepted(scenario);
        const waits = expected.map(({ type }, i) => ({ name: scenario.waitNames[i]!, type }));
        const instance = await host.workflow("code").create({ id: "subject", params: { steps: scenario.steps, waits } });
        await play(scenario, host, clock, instance);
        const log = await instance.history({ limit: 1000 });
        const counts = occurrences(scenario.steps);
        expect(eventsIn(log), explain(scenario, log, "the recorded events are not the accepted sends")).toEqual(expected);
        expect(succeeded(log), explain(scenario, log, "a step ran under another key, or twice")).toEqual(scenario.steps.map((name, i) => `do:${name}-${counts[i]}`));
        expect(log.flatMap((r) => (r.type === "timer.fired" ? [r.data.id] : [])), explain(scenario, log, "a sleep was lost or renamed")).toEqual(scenario.steps.map((name, i) => `sleep:${name}-${counts[i]}`));
        const waitCounts = occurrences(waits.map(({ name }) => name));
        expect(log.flatMap((r) => (r.type === "wait.started" && r.data.type !== "finish" ? [r.data.key] : [])), explain(scenario, log, "a wait was lost or renamed")).toEqual(waits.map(({ name }, i) => `waitForEvent:${name}-${waitCounts[i]}`));
        const status = await instance.status();
        expect(status, explain(scenario, log, "the run did not end with everything it was sent")).toMatchObject({
          status: "complete",
          output: { outputs: scenario.steps.map((name, i) => `${name}/${i}`), received: expected.map(({ type, payload }) => ({ type, payload })) },
        });
        host.crash();
        expect(await instance.status(), explain(scenario, log, "the rebuilt instance answers differently")).toEqual(status);
      }),
      settings,
    );
  });
});
