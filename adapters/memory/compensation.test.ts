import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, step, type LogRecord, type StepArgs } from "../../index";

interface Undo {
  input: unknown;
  output: unknown;
  error: { name: string; message: string };
}

function trip(undone: string[], seen: Undo[], options: { refundFails?: boolean; shipFails?: boolean; unreserveGate?: Promise<void> } = {}) {
  const machine = setup({
    types: { input: {} as { city: string } },
    actors: {
      reserve: step(async ({ input }: StepArgs<{ city: string }>) => `room in ${input.city}`),
      charge: step(async () => ({ receipt: 7 })),
      ship: step(async () => {
        if (options.shipFails ?? true) throw new TypeError("no courier");
        return "shipped";
      }),
      unreserve: step(async ({ input }: StepArgs<Undo>) => {
        undone.push("unreserve");
        seen.push(input);
        await options.unreserveGate;
      }),
      refund: step(async ({ input }: StepArgs<Undo>) => {
        undone.push("refund");
        seen.push(input);
        if (options.refundFails) throw new Error("bank says no");
      }),
    },
  }).createMachine({
    id: "trip",
    context: ({ input }) => ({ city: input.city }),
    initial: "reserving",
    states: {
      reserving: { invoke: { src: "reserve", input: ({ context }) => ({ city: context.city }), onDone: "charging" } },
      charging: { invoke: { src: "charge", onDone: "shipping" } },
      shipping: { invoke: { src: "ship", onDone: "waiting" } },
      waiting: { on: { done: "finished" } },
      finished: { type: "final" },
    },
  });
  return defineWorkflow({
    name: "trip",
    machine,
    steps: {
      reserve: { compensate: "unreserve" },
      charge: { compensate: "refund" },
      ship: { retries: { limit: 0, delay: 0 } },
      refund: { retries: { limit: 1, delay: 100, backoff: "constant" } },
    },
  });
}

async function drive(host: { idle(): Promise<void> }, clock: { advance(ms: number): void }) {
  for (let i = 0; i < 10; i++) {
    await host.idle();
    clock.advance(1000);
  }
  await host.idle();
}

const types = (log: LogRecord[]) => log.map((r) => r.type).filter((t) => t.startsWith("rollback") || t.startsWith("instance."));

describe("machine compensations (saga)", () => {
  it("a machine that errors undoes its compensated steps, newest first, each told what it undoes; the run keeps its error", async () => {
    const undone: string[] = [];
    const seen: Undo[] = [];
    const clock = createManualClock();
    const host = createMemoryHost({ workflows: [trip(undone, seen)], clock });
    const instance = await host.workflow("trip").create({ id: "t1", params: { city: "Oslo" } });
    await drive(host, clock);
    expect(undone).toEqual(["refund", "unreserve"]);
    expect(seen).toEqual([
      { input: null, output: { receipt: 7 }, error: { name: "TypeError", message: "no courier" } },
      { input: { city: "Oslo" }, output: "room in Oslo", error: { name: "TypeError", message: "no courier" } },
    ]);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "TypeError", message: "no courier" } });
    const log = await instance.history();
    expect(types(log)).toEqual(["instance.created", "rollback.started", "rollback.completed", "instance.errored"]);
    const undoStarts = log.filter((r) => r.type === "step.started" && r.data.key.endsWith("~undo")).map((r) => (r as LogRecord<"step.started">).data.key);
    expect(undoStarts).toEqual(["0.trip.charging#1~undo", "0.trip.reserving#1~undo"]);
  });

  it("a compensation that fails for good stops the chain; the run keeps its error", async () => {
    const undone: string[] = [];
    const clock = createManualClock();
    const host = createMemoryHost({ workflows: [trip(undone, [], { refundFails: true })], clock });
    const instance = await host.workflow("trip").create({ id: "t2", params: { city: "Oslo" } });
    await drive(host, clock);
    expect(undone).toEqual(["refund", "refund"]);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "no courier" } });
    expect(types(await instance.history()).slice(-2)).toEqual(["rollback.errored", "instance.errored"]);
  });

  it("terminate({ rollback: true }) undoes what started, then ends terminated; status says rollingBack meanwhile", async () => {
    const undone: string[] = [];
    const clock = createManualClock();
    const host = createMemoryHost({ workflows: [trip(undone, [], { shipFails: false })], clock });
    const instance = await host.workflow("trip").create({ id: "t3", params: { city: "Oslo" } });
    await drive(host, clock);
    expect((await instance.status()).value).toBe("waiting");
    await instance.terminate({ rollback: true });
    expect((await instance.status()).status).toBe("rollingBack");
    await drive(host, clock);
    expect(undone).toEqual(["refund", "unreserve"]);
    expect((await instance.status()).status).toBe("terminated");
    expect(types(await instance.history()).slice(-3)).toEqual(["rollback.started", "rollback.completed", "instance.terminated"]);
  });

  it("a crash in the middle of the saga resumes it from the log: done compensations do not run again", async () => {
    const undone: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const clock = createManualClock();
    const host = createMemoryHost({ workflows: [trip(undone, [], { unreserveGate: gate })], clock });
    const instance = await host.workflow("trip").create({ id: "t4", params: { city: "Oslo" } });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(undone).toEqual(["refund", "unreserve"]);
    expect((await instance.status()).status).toBe("rollingBack");
    host.crash();
    open();
    await drive(host, clock);
    expect(undone).toEqual(["refund", "unreserve", "unreserve"]);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "no courier" } });
  });

  it("refuses a compensator that is not a promise actor", () => {
    const machine = setup({ actors: { go: step(async () => 1) } }).createMachine({ id: "m", initial: "a", states: { a: { invoke: { src: "go" } } } });
    expect(() => defineWorkflow({ name: "m", machine, steps: { go: { compensate: "missing" } } })).toThrow(/compensated by "missing", which is not a promise actor/);
  });
});
