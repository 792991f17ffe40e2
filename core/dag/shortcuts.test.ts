import { describe, expect, it } from "vitest";
import { assign, initialTransition, transition, type AnyEventObject, type AnyMachineSnapshot, type AnyStateMachine, type ExecutableActionObject } from "xstate";
import type { WorkflowDefinition } from "../definition";
import { defineDag } from "./define";
import { dagTasks, type DagTasks } from "./tasks";

/**
 * A compiled DAG enters its first state directly (start.ts), hands events
 * only to the regions that take them (routing.ts) and resolves its assigns
 * without rebuilding the state (assigns.ts). All must give what XState's own
 * code gives: the same machine with those two methods removed and XState's
 * own assigns is the reference, driven through the same events.
 */

const machineOf = (def: WorkflowDefinition) => (def as unknown as { machine: AnyStateMachine }).machine;

/** XState's own assign in place of each light one, made from the same assignment. */
function stockAssigns(machine: AnyStateMachine) {
  const actions = Object.fromEntries(
    Object.entries(machine.implementations.actions).map(([type, action]) => {
      const light = action as unknown as { type?: string; assignment: Parameters<typeof assign>[0] };
      return [type, light.type === "xstate.assign" ? assign(light.assignment) : action];
    }),
  );
  return { ...machine.implementations, actions };
}

/** The same DAG, compiled twice: with the shortcuts, and with XState's own methods and assigns. */
function pair(build: () => WorkflowDefinition): { fast: AnyStateMachine; stock: AnyStateMachine } {
  const stock = machineOf(build()) as unknown as Record<string, unknown>;
  delete stock.getInitialSnapshot;
  delete stock.getTransitionData;
  stock.implementations = stockAssigns(stock as unknown as AnyStateMachine);
  return { fast: machineOf(build()), stock: stock as unknown as AnyStateMachine };
}

/** What can be compared: the state, the context, the status and output, and the actions asked for. */
function seen(snapshot: AnyMachineSnapshot, actions: ExecutableActionObject[]) {
  return {
    value: snapshot.value,
    nodes: (snapshot as unknown as { _nodes: { id: string }[] })._nodes.map((node) => node.id).sort(),
    context: snapshot.context,
    status: snapshot.status,
    output: snapshot.output,
    error: snapshot.error === undefined ? undefined : String(snapshot.error),
    actions: actions.map((action) => ({ type: action.type, params: JSON.parse(JSON.stringify(action.params ?? {}, (key, value) => (key === "actorRef" ? undefined : value))) })),
  };
}

/** A timer this far off is a gate's timeout: these runs never reach it. */
const NEVER_DUE = 3_600_000;

/** The events a run of the machine can answer next: a started step's result or a sleep's timer. */
function answers(actions: ExecutableActionObject[]): AnyEventObject[] {
  const events: AnyEventObject[] = [];
  for (const action of actions) {
    const params = (action.params ?? {}) as { id?: string; event?: AnyEventObject; delay?: number; input?: unknown };
    if (action.type === "xstate.spawnChild") {
      const id = params.id!;
      const input = params.input as { item?: unknown; needs?: Record<string, unknown> };
      events.push({ type: `xstate.done.actor.${id}`, output: input.item !== undefined ? [input.item, id] : [1, 2, id.length] });
    }
    if (action.type === "xstate.raise" && params.delay !== undefined && params.delay < NEVER_DUE) events.push(params.event!);
  }
  return events;
}

/**
 * Drives both machines with the same events, picking the next one by `pick`
 * from what has been asked for so far, and compares after every event; also
 * whether each machine `can` take every event type it knows of, or none.
 * Outside events wait in an inbox, as on the host, until a machine can take them.
 */
function drive(build: () => WorkflowDefinition, params: unknown, pick: (count: number, turn: number) => number, outside: readonly string[] = []) {
  const { fast, stock } = pair(build);
  let [a, actionsA] = initialTransition(fast, params);
  let [b, actionsB] = initialTransition(stock, params);
  expect(seen(a, actionsA)).toEqual(seen(b, actionsB));
  let waiting = answers(actionsA);
  const inbox: AnyEventObject[] = outside.map((type) => ({ type, payload: { from: type } }));
  const known = [...new Set([...waiting.map((e) => e.type), ...outside, "xstate.done.actor.nobody", "unrelated"])];
  for (let turn = 0; a.status === "active" && turn < 500; turn++) {
    for (const type of known) expect(a.can({ type }), type).toBe(b.can({ type }));
    const taken = inbox.findIndex((event) => a.can(event));
    if (taken < 0 && !waiting.length) break;
    const [event] = taken >= 0 ? inbox.splice(taken, 1) : waiting.splice(pick(waiting.length, turn), 1);
    [a, actionsA] = transition(fast, a, event!);
    [b, actionsB] = transition(stock, b, event!);
    expect(seen(a, actionsA), `after ${event!.type}`).toEqual(seen(b, actionsB));
    const next = answers(actionsA);
    known.push(...next.map((e) => e.type).filter((type) => !known.includes(type)));
    waiting = [...waiting, ...next];
  }
  return a;
}

const first = () => 0;
const last = (count: number) => count - 1;
const zigzag = (count: number, turn: number) => (turn * 7) % count;

const diamond = () =>
  defineDag({
    name: "diamond",
    tasks: dagTasks()
      .task("a", { run: () => 1 })
      .task("b", { needs: ["a"], run: () => 2 })
      .task("c", { needs: ["a"], run: () => 3 })
      .task("d", { needs: ["b", "c"], run: () => 4 }),
  });

const mixed = (maxConcurrency?: number) => () =>
  defineDag({
    name: "mixed",
    maxConcurrency,
    tasks: dagTasks()
      .task("list", { run: () => [1, 2, 3, 4, 5] })
      .task("other", { run: () => [9] })
      .map("each", { over: "list", concurrency: 2, run: (n) => n })
      .sleep("rest", { needs: ["other"], duration: 1000 })
      .waitForEvent("gate", { needs: ["rest"], type: "approve", timeout: "1 hour" })
      .map("again", { over: "other", needs: ["gate"], concurrency: 3, run: (n) => n })
      .task("join", { needs: ["each", "again", "gate"], run: () => "joined" }),
  });

const wide = (n: number, maxConcurrency: number) => () => {
  // Names built in a loop are not known to the type checker: the list is typed loosely.
  let tasks = dagTasks<unknown, unknown>() as unknown as DagTasks<unknown, unknown, Record<string, number>>;
  for (let i = 0; i < n; i++) tasks = tasks.task(`t${i}` as never, { needs: i % 4 === 0 && i > 0 ? [`t${i - 1}`] : [], run: () => i }) as unknown as typeof tasks;
  return defineDag({ name: "wide", maxConcurrency, tasks });
};

describe("a compiled DAG's shortcuts through XState", () => {
  it.each([
    ["a diamond", diamond, first],
    ["a diamond, results taken newest first", diamond, last],
    ["maps, a sleep and an event gate", mixed(), first],
    ["maps, a sleep and an event gate, bounded to 2, results in a shuffled order", mixed(2), zigzag],
    ["40 tasks, some chained, bounded to 5", wide(40, 5), zigzag],
  ])("%s: the same first state, transitions, actions and output as XState's own code", (_label, build, pick) => {
    const end = drive(build, { run: 1 }, pick, ["approve"]);
    expect(end.status).toBe("done");
  });

  it("an event no region takes changes nothing, and a failed step errors the machine, as with XState's own code", () => {
    const { fast, stock } = pair(diamond);
    const [a] = initialTransition(fast, {});
    const [b] = initialTransition(stock, {});
    for (const event of [{ type: "unrelated" }, { type: "xstate.done.actor.d" }, { type: "xstate.error.actor.a", error: new Error("no") }]) {
      const [nextA, actionsA] = transition(fast, a, event);
      const [nextB, actionsB] = transition(stock, b, event);
      expect(seen(nextA, actionsA)).toEqual(seen(nextB, actionsB));
    }
    expect(transition(fast, a, { type: "xstate.error.actor.a", error: new Error("no") })[0].status).toBe("error");
  });
});
