import { describe, expect, it } from "vitest";
import { assign, setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, MemoryStorage, step } from "../../index";
import { fold } from "../../core/fold";

/**
 * An invoke with a `systemId`, entered again and again: XState registers each
 * child under that id in the actor system of the transition that starts it,
 * so every transition needs a system of its own, as XState's `transition()` gives it.
 */
function rounds(limit: number) {
  const machine = setup({
    types: { context: {} as { round: number } },
    actors: { work: step(async ({ input }: { input: number }) => input * 10) },
    guards: { more: ({ context }) => context.round < limit },
  }).createMachine({
    id: "rounds",
    context: { round: 0 },
    initial: "working",
    states: {
      working: {
        invoke: { id: "work", src: "work", systemId: "worker", input: ({ context }) => context.round, onDone: { target: "between", actions: assign({ round: ({ context }) => context.round + 1 }) } },
      },
      between: { on: { again: [{ guard: "more", target: "working" }, { target: "done" }] } },
      done: { type: "final" },
    },
    output: ({ context }) => ({ rounds: context.round }),
  });
  return defineWorkflow({ name: "rounds", machine });
}

describe("an invoke with a systemId", () => {
  it("starts again each time its state is entered, in every instance, and replays the same", async () => {
    const workflow = rounds(3);
    const storage = new MemoryStorage();
    const host = createMemoryHost({ workflows: [workflow], clock: createManualClock(), storage });
    const instances = [await host.workflow("rounds").create({ id: "one" }), await host.workflow("rounds").create({ id: "two" })];
    for (let round = 0; round < 3; round++) {
      await host.idle();
      for (const instance of instances) await instance.sendEvent({ type: "again" });
    }
    await host.idle();
    for (const instance of instances) {
      expect(await instance.status()).toEqual({ status: "complete", output: { rounds: 3 }, value: "done" });
      const log = storage.store("rounds", instance.id).read();
      expect(log.filter((r) => r.type === "step.succeeded").map((r) => r.data)).toEqual([0, 1, 2].map((n) => ({ key: `work#${n + 1}`, attempt: 1, output: n * 10 })));
      expect(fold(workflow, log).book.ended).toEqual({ status: "complete", output: { rounds: 3 } });
    }
  });
});
