import { it } from "vitest";
import { setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, step, NonRetryableError } from "../../index";

const show = (log: any[]) => log.map((r) => `${r.seq} @${r.at} ${r.type} ${JSON.stringify(r.data)}`).join("\n");

it("pause then retry scheduled during pause", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const attempts: number[] = [];
  const machine = setup({ actors: { w: step(async ({ attempt }) => { attempts.push(attempt); if (attempt === 1) { await gate; throw new Error("x"); } return 1; }) } }).createMachine({
    id: "m", initial: "a", states: { a: { invoke: { id: "w", src: "w", onDone: "done" } }, done: { type: "final" } },
  });
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "m", machine, steps: { w: { retries: { limit: 1, delay: 1000, backoff: "constant" } } } })], clock });
  const i = await host.workflow("m").create({ id: "x" });
  await new Promise((r) => setImmediate(r));
  await i.pause();
  clock.advance(9000);
  release();
  await host.idle();
  clock.advance(1000);
  await i.resume();
  clock.advance(1000);
  await host.idle();
  console.log("after resume+1000", attempts, await i.status());
  clock.advance(9000);
  await host.idle();
  console.log("after resume+10000", attempts, await i.status());
  console.log(show(await i.history()));
});

it("NonRetryableError with a custom name", async () => {
  const attempts: number[] = [];
  const machine = setup({ actors: { w: step(async ({ attempt }) => { attempts.push(attempt); throw new NonRetryableError("declined", "PaymentDeclined"); }) } }).createMachine({
    id: "m", initial: "a", states: { a: { invoke: { id: "w", src: "w", onDone: "done", onError: "failed" } }, done: { type: "final" }, failed: { type: "final" } },
  });
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "m", machine, steps: { w: { retries: { limit: 3, delay: 10, backoff: "constant" } } } })], clock });
  const i = await host.workflow("m").create({ id: "x" });
  await host.idle();
  clock.advance(1000);
  await host.idle();
  console.log("custom name attempts", attempts);
});

it("createBatch with a null entry", async () => {
  const machine = setup({}).createMachine({ id: "m", initial: "a", states: { a: {} } });
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "m", machine })], clock: createManualClock() });
  try {
    const r = await host.workflow("m").createBatch({ instances: [{ id: "first" }, null as never, { id: "third" }] });
    console.log("batch", r.created.map((h) => h.id), r.errors);
  } catch (e) {
    console.log("batch threw", e, host.storage.all());
  }
  try { await host.workflow("m").create({ id: null as never }); console.log("null id ->", host.storage.all()); } catch (e) { console.log("null id threw", e); }
});
