import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, InstanceNotFoundError, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";

/**
 * Issue 14: subscribe() polled the log, every 20 ms at first and every 500 ms
 * once nothing happened, so a live event came up to half a second after the
 * append, after status() already showed the change. Now the instance's
 * appends wake its subscriptions: on the memory host everything a command
 * does runs in promises, so a live event is delivered before the next turn of
 * the event loop, whatever the (manual) clock says.
 */

/** One turn of the event loop: the promises a command set going have all run, a poller's timer has not. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Waits for `ping` `n` times in a row, then naps for a second. */
class Pinger extends WorkflowEntrypoint<unknown, { n: number }> {
  async run(event: WorkflowEvent<{ n: number }>, step: WorkflowStep) {
    for (let i = 1; i <= event.payload.n; i++) await step.waitForEvent(`ping ${i}`, { type: "ping", timeout: "1 hour" });
    await step.sleep("nap", 1000);
    return event.payload.n;
  }
}

type Delivered = { type: string; eventId: number; stepName?: string };
type Subscription = { next(): Promise<IteratorResult<Delivered, void>>; [Symbol.dispose](): void };

/** The moves between running and waiting are left out, so that each ping shows as its wait's start and end. */
const WAITS = ["wait_started", "wait_completed", "sleep_started", "sleep_completed", "workflow_completed"] as const;

async function waitingPinger(n: number) {
  const clock = createManualClock(0);
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "pinger", entrypoint: Pinger })], clock });
  const instance = await host.workflow("pinger").create({ id: "pinger", params: { n } });
  await host.idle();
  const subscription = (await instance.subscribe({ filter: [...WAITS] })) as unknown as Subscription;
  return { clock, host, instance, subscription };
}

/** Takes events up to the first of `type`, which it returns. */
async function upTo(subscription: Subscription, type: string): Promise<Delivered> {
  for (;;) {
    const next = await subscription.next();
    if (next.done) throw new Error(`the subscription ended before ${type}`);
    if (next.value.type === type) return next.value;
  }
}

/** A promise, with what it settled to as soon as it settles. */
function watched<T>(promise: Promise<T>) {
  const seen: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(seen, { settled: true, value }),
    (error: unknown) => Object.assign(seen, { settled: true, error }),
  );
  return seen;
}

async function all(subscription: Subscription): Promise<Delivered[]> {
  const events: Delivered[] = [];
  for (let next = await subscription.next(); !next.done; next = await subscription.next()) events.push(next.value);
  return events;
}

describe("subscribe() on the memory host: each live event as its record is appended", () => {
  it("a waiting subscriber has wait_completed by the time sendEvent returns plus one turn, with the clock standing still", async () => {
    const { instance, subscription } = await waitingPinger(2);
    await upTo(subscription, "wait_started");
    const next = watched(subscription.next());
    await turn();
    expect(next.settled).toBe(false);
    await instance.sendEvent({ type: "ping" });
    await turn();
    expect(next.value).toMatchObject({ done: false, value: { type: "wait_completed", stepName: "ping 1-1" } });
    expect((await subscription.next()).value).toMatchObject({ type: "wait_started", stepName: "ping 2-1" });
  });

  it("a timer that fires inside clock.advance() is delivered in the same turn", async () => {
    const { clock, instance, subscription } = await waitingPinger(1);
    await instance.sendEvent({ type: "ping" });
    await upTo(subscription, "sleep_started");
    const next = watched(subscription.next());
    await turn();
    expect(next.settled).toBe(false);
    clock.advance(1000);
    await turn();
    expect(next.value).toMatchObject({ done: false, value: { type: "sleep_completed" } });
    expect((await all(subscription)).map((e) => e.type)).toEqual(["workflow_completed"]);
  });

  it("a burst of events sent in one turn arrives once each, in order, as a subscription from the start reads it", async () => {
    const n = 50;
    const { clock, instance, subscription } = await waitingPinger(n);
    const live = all(subscription);
    await Promise.all(Array.from({ length: n }, () => instance.sendEvent({ type: "ping" })));
    await turn();
    clock.advance(1000);
    const events = await live;
    // In order, each once, with none hidden but the moves between running and waiting the filter leaves out.
    const whole = await all((await instance.subscribe()) as unknown as Subscription);
    expect(events).toEqual(whole.filter((e) => (WAITS as readonly string[]).includes(e.type)));
    expect(whole.map((e) => e.eventId)).toEqual(whole.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "wait_completed").map((e) => e.stepName)).toEqual(Array.from({ length: n }, (_, i) => `ping ${i + 1}-1`));
    expect(events.at(-1)!.type).toBe("workflow_completed");
  });

  it("dispose ends a waiting next() in the same turn, and later appends do not revive it", async () => {
    const { instance, subscription } = await waitingPinger(2);
    await upTo(subscription, "wait_started");
    const next = watched(subscription.next());
    subscription[Symbol.dispose]();
    await turn();
    expect(next.value).toEqual({ done: true, value: undefined });
    await instance.sendEvent({ type: "ping" });
    expect(await subscription.next()).toEqual({ done: true, value: undefined });
  });

  it("deleting the instance wakes a waiting subscriber, whose next() reports it gone", async () => {
    const { instance, subscription } = await waitingPinger(1);
    await upTo(subscription, "wait_started");
    const next = watched(subscription.next());
    await instance.delete();
    await turn();
    expect(next.error).toBeInstanceOf(InstanceNotFoundError);
  });

  it("a subscriber waiting through a crash of the host follows the instance rebuilt from its log, missing nothing", async () => {
    const { clock, host, instance, subscription } = await waitingPinger(1);
    const first = await upTo(subscription, "wait_started");
    const next = watched(subscription.next());
    host.crash();
    await instance.sendEvent({ type: "ping" });
    await turn();
    expect(next.value).toMatchObject({ done: false, value: { type: "wait_completed", stepName: "ping 1-1" } });
    clock.advance(1000);
    const events = [first, (next.value as IteratorYieldResult<Delivered>).value, ...(await all(subscription))];
    expect(events).toEqual((await all((await instance.subscribe({ filter: [...WAITS] })) as unknown as Subscription)));
    expect(events.map((e) => e.type)).toEqual(WAITS);
  });
});
