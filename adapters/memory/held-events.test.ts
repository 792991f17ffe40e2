import { describe, expect, it } from "vitest";
import { assign, setup } from "xstate";
import { EventsPilingUpError } from "../../core/errors";
import { MAX_PAYLOAD_BYTES } from "../../core/json";
import { HELD_EVENTS_LIMIT } from "../../core/refusals";
import { createManualClock, createMemoryHost, defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";

/**
 * An event waits in its instance until a state (or a waitForEvent) takes it, in memory and in every snapshot.
 * Events the workflow never takes would pile up without end; past a bound they are refused, the log as it was.
 */
const machine = defineWorkflow({
  name: "gatekeeper",
  machine: setup({ types: { context: {} as { taken: number } } }).createMachine({
    id: "gatekeeper",
    context: { taken: 0 },
    initial: "closed",
    states: {
      closed: { on: { open: "open" } },
      open: { on: { note: { actions: assign({ taken: ({ context }) => context.taken + 1 }) }, stop: "done" } },
      done: { type: "final" },
    },
    output: ({ context }) => context.taken,
  }),
});

class Waiter extends WorkflowEntrypoint {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    const first = await step.waitForEvent("first note", { type: "note" });
    return first.payload;
  }
}
const code = defineWorkflow({ name: "waiter", entrypoint: Waiter });

const small = (i: number) => ({ type: "note", payload: { i } });
const large = (i: number) => ({ type: "note", payload: { i, text: "x".repeat(MAX_PAYLOAD_BYTES - 64) } });

async function refused(send: Promise<void>): Promise<EventsPilingUpError> {
  const error = await send.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(EventsPilingUpError);
  expect((error as EventsPilingUpError).code).toBe("event.too_many_waiting");
  return error as EventsPilingUpError;
}

describe("events an instance holds before it takes them", () => {
  it(`a machine holds ${HELD_EVENTS_LIMIT.events} events no state accepts yet, refuses the next with the log as it was, and takes them all once a state accepts them`, async () => {
    const host = createMemoryHost({ workflows: [machine], clock: createManualClock() });
    const instance = await host.workflow("gatekeeper").create({ id: "g" });
    for (let i = 0; i < HELD_EVENTS_LIMIT.events; i++) await instance.sendEvent(small(i));
    const log = await instance.history({ limit: 1000 });
    const error = await refused(instance.sendEvent(small(HELD_EVENTS_LIMIT.events)));
    expect(error.message).toMatch(/already holds 1000 events/);
    expect(await instance.history({ limit: 1000 })).toEqual(log);
    // A repeat of a key already used is still a quiet no-op, not a refusal.
    await instance.sendEvent({ type: "open" });
    await instance.sendEvent(small(-1));
    await instance.sendEvent({ type: "stop" });
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: HELD_EVENTS_LIMIT.events + 1 });
  });

  it("a machine holds 16 MiB of event payloads, refuses the event that would pass it, and holds more once it has taken them", async () => {
    const host = createMemoryHost({ workflows: [machine], clock: createManualClock() });
    const instance = await host.workflow("gatekeeper").create({ id: "g" });
    let sent = 0;
    for (; sent < 16; sent++) await instance.sendEvent(large(sent));
    const log = await instance.history({ limit: 1000 });
    await refused(instance.sendEvent(large(sent)));
    expect(await instance.history({ limit: 1000 })).toEqual(log);
    await instance.sendEvent({ type: "open" });
    await instance.sendEvent(large(sent));
    await instance.sendEvent({ type: "stop" });
    expect(await instance.status()).toMatchObject({ status: "complete", output: 17 });
  });

  it("paused, a machine holds the events it defers within the same bound", async () => {
    const host = createMemoryHost({ workflows: [machine], clock: createManualClock() });
    const instance = await host.workflow("gatekeeper").create({ id: "g" });
    await instance.pause();
    for (let i = 0; i < HELD_EVENTS_LIMIT.events; i++) await instance.sendEvent(small(i));
    await refused(instance.sendEvent(small(HELD_EVENTS_LIMIT.events)));
  });

  it("a code-first run holds the events no waitForEvent took within the same bound, and a held event of the awaited type is taken", async () => {
    const host = createMemoryHost({ workflows: [code], clock: createManualClock() });
    const instance = await host.workflow("waiter").create({ id: "w" });
    await host.idle();
    // The run waits for a note; events of another type pile up.
    for (let i = 0; i < HELD_EVENTS_LIMIT.events; i++) await instance.sendEvent({ type: "other", payload: i });
    const log = await instance.history({ limit: 1000 });
    await refused(instance.sendEvent({ type: "other", payload: "one too many" }));
    expect(await instance.history({ limit: 1000 })).toEqual(log);
    // The event the run waits for is taken at once, so it is accepted however many others are held.
    await instance.sendEvent(small(7));
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { i: 7 } });
  });
});
