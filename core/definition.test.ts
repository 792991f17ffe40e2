import { describe, it, expect } from "vitest";
import { createMachine, fromCallback, fromObservable, fromPromise, fromTransition, raise, sendTo, setup, spawnChild, type AnyStateMachine } from "xstate";
import { defineWorkflow, type WorkflowOptions } from "./definition";
import { DEFAULT_POLICY } from "./retry";
import { InvalidDefinitionError } from "./errors";
import { step } from "./step";

/** A fresh (but identical each time) valid machine: charge, wait 1 second, ship. */
function orderMachine() {
  return setup({
    actors: {
      charge: fromPromise(async () => "charged"),
      ship: step(async ({ stepId, attempt }) => `${stepId}@${attempt}`),
    },
    delays: { settle: 1000 },
  }).createMachine({
    id: "order",
    initial: "charging",
    states: {
      charging: { invoke: { id: "chg", src: "charge", onDone: "settling", onError: "failed" } },
      settling: { after: { settle: "shipping" } },
      shipping: { invoke: { src: "ship", onDone: "done" }, on: { cancel: "failed" } },
      done: { type: "final" },
      failed: { type: "final" },
    },
  });
}

function refusal(options: WorkflowOptions<AnyStateMachine>): InvalidDefinitionError {
  let caught: unknown;
  try {
    defineWorkflow(options);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidDefinitionError);
  expect((caught as InvalidDefinitionError).code).toBe("definition.invalid");
  return caught as InvalidDefinitionError;
}

describe("defineWorkflow accepts", () => {
  it("a valid machine, with its name, default version and a hash", () => {
    const machine = orderMachine();
    const def = defineWorkflow({ name: "order", machine });
    expect(def.name).toBe("order");
    expect(def.machine).toBe(machine);
    expect(def.version).toBe("1");
    expect(def.hash).toMatch(/^[0-9a-f]{14}$/);
  });

  it("names of 1 to 64 letters, digits, '-' or '_'", () => {
    for (const name of ["o", "Order_2-b", "_x", "x".repeat(64)]) {
      expect(defineWorkflow({ name, machine: orderMachine() }).name).toBe(name);
    }
  });

  it("a policy per step from `steps`, and defaults for the rest", () => {
    const def = defineWorkflow({
      name: "order",
      machine: orderMachine(),
      steps: { charge: { retries: { limit: 2, delay: "1 second", backoff: "linear" }, timeout: "30 seconds" } },
    });
    expect(def.policy("charge")).toEqual({ limit: 2, delayMs: 1000, backoff: "linear", timeoutMs: 30_000 });
    expect(def.policy("ship")).toEqual(DEFAULT_POLICY);
    expect(def.policy("unknown")).toEqual(DEFAULT_POLICY);
  });

  it("the step body of step() and fromPromise() actors", async () => {
    const def = defineWorkflow({ name: "order", machine: orderMachine() });
    const signal = new AbortController().signal;
    expect(await def.stepBody("ship")({ input: undefined, stepId: "ship#1", attempt: 2, signal, env: {} })).toBe("ship#1@2");
    expect(await def.stepBody("charge")({ input: undefined, stepId: "chg#1", attempt: 1, signal, env: {} })).toBe("charged");
  });

  it("delayed raise with an id and a numeric or named delay, in entry, exit and transitions", () => {
    const machine = setup({ delays: { soon: 500 } }).createMachine({
      id: "timers",
      initial: "a",
      states: {
        a: {
          entry: raise({ type: "tick" }, { delay: 100, id: "t1" }),
          exit: raise({ type: "tock" }, { delay: "soon", id: "t2" }),
          after: { 1000: "b", soon: "b" },
          on: { go: { target: "b", actions: raise({ type: "x" }, { delay: 10, id: "t3" }) } },
        },
        b: { entry: raise({ type: "now" }) },
      },
    });
    expect(() => defineWorkflow({ name: "timers", machine })).not.toThrow();
  });
});

describe("defineWorkflow refuses", () => {
  it("an invoke whose src is not in setup({ actors })", () => {
    const machine = createMachine({
      id: "wf",
      initial: "a",
      states: { a: { invoke: { src: "missing" } } },
    });
    const error = refusal({ name: "wf", machine });
    expect(error.message).toContain('state "wf.a" invokes "missing", which is not in setup({ actors })');
  });

  it("an invoke of an actor that is not a promise actor (a child machine)", () => {
    const machine = setup({ actors: { child: createMachine({ id: "child" }) } }).createMachine({
      id: "wf",
      initial: "a",
      states: { a: { invoke: { src: "child" } } },
    });
    expect(refusal({ name: "wf", machine }).message).toContain('state "wf.a" invokes "child", which is not a promise actor');
  });

  it.each([
    ["callback", () => fromCallback(() => undefined)],
    ["observable", () => fromObservable(() => ({ subscribe: () => ({ unsubscribe: () => undefined }) }) as never)],
    ["transition", () => fromTransition((state) => state, {})],
  ])("an invoke of %s logic, which looks like a promise actor but is not one", (_kind, make) => {
    const machine = setup({ actors: { listen: make() as never } }).createMachine({
      id: "wf",
      initial: "a",
      states: { a: { invoke: { src: "listen" } as never } },
    });
    expect(refusal({ name: "wf", machine }).message).toContain('state "wf.a" invokes "listen", which is not a promise actor');
  });

  it("`after` with a named delay missing from setup({ delays })", () => {
    const machine = createMachine({
      id: "wf",
      initial: "a",
      states: { a: { after: { later: "b" } }, b: {} },
    });
    // Once: XState also compiles the `after` into a delayed raise in the state's entry, which is checked too.
    expect(refusal({ name: "wf", machine }).message).toBe('Workflow "wf" cannot be replayed safely: state "wf.a" uses the delay "later", which is not in setup({ delays }).');
  });

  it.each([
    ["a promise actor", () => fromPromise(async () => 1)],
    ["a step() actor", () => step(async () => 1)],
    ["a child machine", () => createMachine({ id: "child" })],
  ])("an inline invoke of %s, naming the state and where the actor belongs, not the id XState made up for it", (_kind, make) => {
    const machine = createMachine({ id: "wf", initial: "a", states: { a: { invoke: { src: make() as never } } } });
    expect(refusal({ name: "wf", machine }).message).toBe(
      'Workflow "wf" cannot be replayed safely: state "wf.a" invokes an actor written inline; move it into setup({ actors: { name: ... } }) and invoke it by that name (src: "name"): a step is found, configured in `steps` and recorded by the name of its actor.',
    );
  });

  // setup()'s tables are plain objects: a name on Object.prototype must not pass for one the machine declared.
  it.each(["constructor", "toString", "valueOf"])("an invoke of %j that setup({ actors }) does not have, as missing", (src) => {
    const machine = createMachine({ id: "wf", initial: "a", states: { a: { invoke: { src } } } });
    expect(refusal({ name: "wf", machine }).message).toContain(`state "wf.a" invokes "${src}", which is not in setup({ actors })`);
  });

  it.each(["constructor", "toString", "hasOwnProperty"])("`after` with the delay %j that setup({ delays }) does not have", (delay) => {
    const machine = createMachine({ id: "wf", initial: "a", states: { a: { after: { [delay]: "b" } }, b: {} } });
    expect(refusal({ name: "wf", machine }).message).toContain(`state "wf.a" uses the delay "${delay}", which is not in setup({ delays })`);
  });

  it.each(["constructor", "toString", "__proto__"])("a transition on the event %j, which XState's machine.toJSON() cannot hold", (type) => {
    const machine = createMachine({ id: "wf", initial: "a", states: { a: { on: { [type]: "b" } }, b: {} } });
    expect(refusal({ name: "wf", machine }).message).toContain(`state "wf.a" takes the event "${type}"`);
  });

  it("a delayed raise without an id", () => {
    const machine = createMachine({
      id: "wf",
      initial: "a",
      states: { a: { entry: raise({ type: "tick" }, { delay: 100 }) } },
    });
    expect(refusal({ name: "wf", machine }).message).toContain('state "wf.a" raises a delayed event without an id');
  });

  it("a delayed raise with an inline delay", () => {
    const machine = createMachine({
      id: "wf",
      initial: "a",
      states: { a: { entry: raise({ type: "tick" }, { delay: () => 100, id: "t" }) } },
    });
    expect(refusal({ name: "wf", machine }).message).toContain('state "wf.a" computes a delay inline');
  });

  it("a delayed raise named in setup({ actions })", () => {
    const machine = setup({ actions: { later: raise({ type: "tick" }, { delay: 100 }) } }).createMachine({
      id: "wf",
      initial: "a",
      states: { a: { exit: "later" } },
    });
    expect(refusal({ name: "wf", machine }).message).toContain('state "wf.a" raises a delayed event without an id');
  });

  it("a delayed sendTo, in a transition's actions", () => {
    const machine = createMachine({
      id: "wf",
      initial: "a",
      states: { a: { on: { go: { actions: sendTo(({ self }) => self, { type: "ping" }, { delay: 100 }) } } } },
    });
    expect(refusal({ name: "wf", machine }).message).toContain('state "wf.a" sends a delayed event with sendTo()');
  });

  it("spawnChild", () => {
    const machine = setup({ actors: { charge: fromPromise(async () => 1) } }).createMachine({
      id: "wf",
      initial: "a",
      states: { a: { entry: spawnChild("charge") } },
    });
    expect(refusal({ name: "wf", machine }).message).toContain('state "wf.a" spawns a child with spawnChild()');
  });

  it("a `steps` key that names no invoked actor", () => {
    const error = refusal({ name: "order", machine: orderMachine(), steps: { chrage: { retries: { limit: 1, delay: 10 } } } });
    expect(error.message).toContain('steps names "chrage", but no state invokes an actor of that name (invoked: charge, ship)');
  });

  it("every problem at once, each naming its state", () => {
    const machine = createMachine({
      id: "wf",
      initial: "a",
      states: {
        a: { invoke: { src: "missing" } },
        b: { states: { inner: { entry: raise({ type: "tick" }, { delay: 100 }) } }, initial: "inner" },
      },
    });
    const message = refusal({ name: "wf", machine }).message;
    expect(message).toContain('Workflow "wf" cannot be replayed safely');
    expect(message).toContain('state "wf.a" invokes "missing"');
    expect(message).toContain('state "wf.b.inner" raises a delayed event without an id');
  });

  it.each(["", "-order", "a b", "a.b", "x".repeat(65)])("the workflow name %j", (name) => {
    expect(refusal({ name, machine: orderMachine() }).message).toContain("its name must be 1 to 64 letters");
  });

  it("a non-string workflow name", () => {
    refusal({ name: 42 as unknown as string, machine: orderMachine() });
  });

  it("an invalid step config", () => {
    expect(() => defineWorkflow({ name: "order", machine: orderMachine(), steps: { charge: { timeout: 0 } } })).toThrow(/timeout must be more than 0/);
  });
});

describe("the definition hash", () => {
  const charge = { retries: { limit: 2, delay: 100 } };

  it("is the same for the same definition built twice", () => {
    const a = defineWorkflow({ name: "order", machine: orderMachine(), version: "3", steps: { charge } });
    const b = defineWorkflow({ name: "order", machine: orderMachine(), version: "3", steps: { charge: { retries: { limit: 2, delay: 100 } } } });
    expect(a.hash).toBe(b.hash);
  });

  it("changes when the machine's shape changes", () => {
    const base = defineWorkflow({ name: "order", machine: orderMachine() }).hash;
    const reshaped = setup({
      actors: { charge: fromPromise(async () => "charged"), ship: step(async () => "shipped") },
      delays: { settle: 1000 },
    }).createMachine({
      id: "order",
      initial: "charging",
      states: {
        charging: { invoke: { id: "chg", src: "charge", onDone: "shipping", onError: "failed" } },
        shipping: { invoke: { src: "ship", onDone: "done" }, on: { cancel: "failed" } },
        done: { type: "final" },
        failed: { type: "final" },
      },
    });
    expect(defineWorkflow({ name: "order", machine: reshaped }).hash).not.toBe(base);
  });

  it("changes when only an eventless transition changes (XState's toJSON leaves them out)", () => {
    const gate = (guard: "ready" | "approved", target: "done" | "failed") =>
      setup({ guards: { ready: () => true, approved: () => true } }).createMachine({
        id: "gate",
        initial: "waiting",
        states: { waiting: { always: { guard, target } }, done: { type: "final" }, failed: { type: "final" } },
      });
    const hashes = [gate("ready", "done"), gate("approved", "done"), gate("ready", "failed")].map((machine) => defineWorkflow({ name: "gate", machine }).hash);
    expect(new Set(hashes).size).toBe(3);
    expect(defineWorkflow({ name: "gate", machine: gate("ready", "done") }).hash).toBe(hashes[0]);
  });

  it("changes with the version", () => {
    const v1 = defineWorkflow({ name: "order", machine: orderMachine() });
    const v2 = defineWorkflow({ name: "order", machine: orderMachine(), version: "2" });
    expect(v1.hash).toBe(defineWorkflow({ name: "order", machine: orderMachine(), version: "1" }).hash);
    expect(v2.hash).not.toBe(v1.hash);
  });

  it("changes with a step's retry config or timeout", () => {
    const base = defineWorkflow({ name: "order", machine: orderMachine(), steps: { charge } }).hash;
    const moreRetries = defineWorkflow({ name: "order", machine: orderMachine(), steps: { charge: { retries: { limit: 3, delay: 100 } } } }).hash;
    const otherBackoff = defineWorkflow({
      name: "order",
      machine: orderMachine(),
      steps: { charge: { retries: { limit: 2, delay: 100, backoff: "constant" } } },
    }).hash;
    const timeout = defineWorkflow({ name: "order", machine: orderMachine(), steps: { charge: { ...charge, timeout: 5000 } } }).hash;
    expect(new Set([base, moreRetries, otherBackoff, timeout]).size).toBe(4);
  });
});
