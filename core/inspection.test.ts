import { createInspector } from "@statelyai/inspect";
import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, replayInto, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";
import { groceryAgent } from "../machines/grocery-agent";
import { inspectionEvents, type InspectionEvent } from "./inspection";

async function finishedGrocery() {
  const clock = createManualClock(1_000_000);
  const host = createMemoryHost({ workflows: [groceryAgent], clock });
  const instance = await host.workflow("grocery-agent").create({ id: "g1", params: { meals: ["pasta"], budget: 80 } });
  for (let i = 0; i < 10; i++) {
    await host.idle();
    clock.advance(60_000);
  }
  await instance.sendEvent({ type: "delivered", payload: { receivedBy: "Ada" } });
  expect((await instance.status()).status).toBe("complete");
  return instance.history();
}

describe("inspection", () => {
  it("replayInto feeds a finished instance into an @statelyai/inspect inspector: the machine, its steps, each event and snapshot", async () => {
    const history = await finishedGrocery();
    const sent: InspectionEvent[] = [];
    const inspector = createInspector({ send: (event) => void sent.push(event as unknown as InspectionEvent) });
    const count = replayInto(inspector, groceryAgent, history);
    expect(count).toBe(sent.length);
    expect(sent[0]).toMatchObject({ type: "@xstate.actor", sessionId: "g1", name: "grocery-agent", parentId: undefined });
    expect(JSON.parse((sent[0] as { definition: string }).definition)).toMatchObject({ id: "grocery-agent", initial: expect.any(String) });
    const children = sent.filter((e) => e.type === "@xstate.actor" && e.parentId === "g1");
    expect(children.length).toBe(history.filter((r) => r.type === "step.started" && r.data.attempt === 1).length);
    const inputs = history.filter((r) => ["step.succeeded", "step.failed", "timer.fired", "event.received"].includes(r.type));
    const rootEvents = sent.filter((e) => e.type === "@xstate.event" && e.sessionId === "g1");
    expect(rootEvents.length).toBe(inputs.length + 1);
    for (const [i, event] of sent.entries()) {
      if (event.type === "@xstate.event" && event.sessionId === "g1") expect(sent[i + 1]).toMatchObject({ type: "@xstate.snapshot", sessionId: "g1", event: event.event });
    }
    const last = sent.filter((e) => e.type === "@xstate.snapshot" && e.sessionId === "g1").at(-1)!;
    expect(last).toMatchObject({ snapshot: { status: "done", value: "delivered", output: { outcome: "delivered" } } });
    expect(rootEvents.find((e) => e.type === "@xstate.event" && e.event.type === "delivered")).toMatchObject({ event: { payload: { receivedBy: "Ada" } } });
  });

  it("a code-first instance appears as a machine whose children are its steps", async () => {
    class Two extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.do("first", async () => 1);
        return step.do("second", async () => 2);
      }
    }
    const def = defineWorkflow({ name: "two", entrypoint: Two });
    const host = createMemoryHost({ workflows: [def], clock: createManualClock() });
    const instance = await host.workflow("two").create({ id: "c1" });
    await host.idle();
    await new Promise((resolve) => setImmediate(resolve));
    const events = inspectionEvents(def, await instance.history());
    expect(events[0]).toMatchObject({ type: "@xstate.actor", name: "two" });
    expect(events.filter((e) => e.type === "@xstate.actor" && e.parentId === "c1").map((e) => (e as { name: string }).name)).toEqual(["do:first-1", "do:second-1"]);
    expect(events.at(-1)).toMatchObject({ type: "@xstate.snapshot", snapshot: { status: "done", output: 2 } });
  });

  it("a stream pushed in batches gives the same events as the whole log at once", async () => {
    const history = await finishedGrocery();
    const whole = inspectionEvents(groceryAgent, history);
    const { InspectionStream } = await import("./inspection");
    const stream = new InspectionStream(groceryAgent);
    const batched = [...stream.push(history.slice(0, 5)), ...stream.push(history.slice(5, 11)), ...stream.push(history.slice(11))];
    expect(batched).toEqual(whole);
  });
});
