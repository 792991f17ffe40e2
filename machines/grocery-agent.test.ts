import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, type LogRecord } from "../index";
import { groceryAgent } from "./grocery-agent";
import { LIST, TOTAL_CENTS, WEEK, OVER_BUDGET, DELIVERED } from "./grocery-agent.scenario";

const SECOND = 1000;
const DAY = 24 * 60 * 60 * SECOND;

function start() {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [groceryAgent], clock });
  return { clock, host, client: host.workflow("grocery-agent") };
}

const ofType = <T extends LogRecord["type"]>(history: LogRecord[], type: T) => history.filter((r) => r.type === type) as LogRecord<T>[];
const startsOf = (history: LogRecord[], key: string) => ofType(history, "step.started").filter((r) => r.data.key === key).length;

/** Runs the order's three attempts: the first two time out, 10 s then 20 s of backoff (exponential). */
async function placeTheOrder({ clock, host }: ReturnType<typeof start>) {
  await host.idle();
  clock.advance(10 * SECOND);
  await host.idle();
  clock.advance(20 * SECOND);
  await host.idle();
}

describe("grocery-agent", () => {
  it("compiles the list, substitutes what is out of stock, places the order through two checkout timeouts, and waits for delivery", async () => {
    const env = start();
    const { clock, host, client } = env;
    const instance = await client.create({ id: "week-1", params: WEEK });
    await host.idle();

    expect(await instance.status()).toMatchObject({ status: "waiting", value: "ordering" });
    let history = await instance.history();
    expect(ofType(history, "step.attempt_failed").map((r) => ({ key: r.data.key, attempt: r.data.attempt, retryAt: r.data.retryAt }))).toEqual([
      { key: "order#1", attempt: 1, retryAt: 10 * SECOND },
    ]);

    clock.advance(10 * SECOND);
    await host.idle();
    history = await instance.history();
    expect(ofType(history, "step.attempt_failed").map((r) => ({ key: r.data.key, attempt: r.data.attempt, retryAt: r.data.retryAt }))).toEqual([
      { key: "order#1", attempt: 1, retryAt: 10 * SECOND },
      { key: "order#1", attempt: 2, retryAt: 30 * SECOND },
    ]);
    clock.advance(20 * SECOND);
    await host.idle();

    expect(await instance.status()).toMatchObject({ status: "waiting", value: "awaitingDelivery" });
    history = await instance.history();
    expect(ofType(history, "timer.started").map((r) => r.data)).toEqual([
      { id: "xstate.after.deliveryWindow.grocery-agent.awaitingDelivery#1", dueAt: 30 * SECOND + 2 * DAY },
    ]);

    clock.advance(DAY);
    await instance.sendEvent({ type: "delivered", payload: { receivedBy: "front desk" } });

    const output = DELIVERED;
    expect(await instance.status()).toEqual({ status: "complete", value: "delivered", output });
    history = await instance.history();
    expect(ofType(history, "step.attempt_failed").map((r) => r.data.error.message)).toEqual([
      "store checkout timed out on attempt 1 (simulated transient error)",
      "store checkout timed out on attempt 2 (simulated transient error)",
    ]);
    expect(ofType(history, "step.succeeded").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(["compile#1@1", "stock#1@1", "order#1@3"]);
    expect(ofType(history, "timer.cancelled").map((r) => r.data.id)).toEqual(["xstate.after.deliveryWindow.grocery-agent.awaitingDelivery#1"]);
    expect(history.at(-1)).toMatchObject({ type: "instance.completed", at: 30 * SECOND + DAY, data: { output } });
  });

  it("stops at overBudget, without retrying, when the order would cost more than the budget", async () => {
    const { host, client } = start();
    const instance = await client.create({ id: "week-2", params: { ...WEEK, budget: 40 } });
    await host.idle();

    expect(await instance.status()).toEqual({
      status: "complete",
      value: "overBudget",
      output: OVER_BUDGET,
    });
    expect(TOTAL_CENTS).toBe(4232);
    const history = await instance.history();
    const failures = ofType(history, "step.attempt_failed");
    expect(failures.map((r) => r.data)).toEqual([
      { key: "order#1", attempt: 1, error: { name: "NonRetryableError", message: "the order comes to $42.32, over the budget of $40.00" } },
    ]);
    expect(ofType(history, "step.failed").map((r) => r.data.key)).toEqual(["order#1"]);
    expect(startsOf(history, "order#1")).toBe(1);
    expect(ofType(history, "timer.started")).toHaveLength(0);
  });

  it("ends undelivered when no delivery is confirmed within two days", async () => {
    const env = start();
    const { clock, host, client } = env;
    const instance = await client.create({ id: "week-3", params: WEEK });
    await placeTheOrder(env);

    clock.advance(2 * DAY - 1);
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "awaitingDelivery" });
    clock.advance(1);
    await host.idle();

    expect(await instance.status()).toMatchObject({
      status: "complete",
      value: "undelivered",
      output: { outcome: "undelivered", order: { orderId: "ord-order#1", totalCents: TOTAL_CENTS }, receivedBy: null },
    });
    expect(ofType(await instance.history(), "timer.fired").map((r) => ({ id: r.data.id, at: r.at }))).toEqual([
      { id: "xstate.after.deliveryWindow.grocery-agent.awaitingDelivery#1", at: 30 * SECOND + 2 * DAY },
    ]);
  });

  it("keeps a delivery confirmation that arrives while the order is still retrying, and finishes with it once the order is placed", async () => {
    const env = start();
    const { clock, host, client } = env;
    const instance = await client.create({ id: "week-4", params: WEEK });
    await host.idle();
    await instance.sendEvent({ type: "delivered", payload: { receivedBy: "neighbour" } });
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "ordering" });

    clock.advance(10 * SECOND);
    await host.idle();
    clock.advance(20 * SECOND);
    await host.idle();

    expect(await instance.status()).toMatchObject({
      status: "complete",
      value: "delivered",
      output: { outcome: "delivered", receivedBy: "neighbour", order: { orderId: "ord-order#1" } },
    });
    const history = await instance.history();
    const received = ofType(history, "event.received");
    expect(received).toHaveLength(1);
    expect(received[0]!.at).toBe(0);
  });

  it("survives crashes during the order's backoff and while waiting for delivery, ending as a run without crashes does", async () => {
    async function run(crash: boolean) {
      const { clock, host, client } = start();
      const instance = await client.create({ id: "week-5", params: WEEK });
      await host.idle();
      if (crash) host.crash(); // the order waits for its second attempt
      clock.advance(10 * SECOND);
      await host.idle();
      if (crash) host.crash(); // the order waits for its third attempt
      clock.advance(20 * SECOND);
      await host.idle();
      if (crash) {
        host.crash(); // waiting for the delivery
        expect(await instance.status()).toMatchObject({ status: "waiting", value: "awaitingDelivery" });
      }
      clock.advance(DAY);
      await instance.sendEvent({ type: "delivered", payload: { receivedBy: "front desk" } });
      return { status: await instance.status(), history: await instance.history() };
    }

    const calm = await run(false);
    const crashed = await run(true);
    expect(crashed.status).toMatchObject({ status: "complete", value: "delivered", output: { order: { orderId: "ord-order#1", totalCents: TOTAL_CENTS } } });
    expect(crashed.status).toEqual(calm.status);
    const shape = (history: LogRecord[]) => history.map((r) => ({ type: r.type, at: r.at, data: r.data }));
    expect(shape(crashed.history)).toEqual(shape(calm.history));
    // Still exactly three checkout attempts and one order: the crashes re-ran nothing.
    expect(startsOf(crashed.history, "order#1")).toBe(3);
    expect(startsOf(crashed.history, "compile#1")).toBe(1);
    expect(startsOf(crashed.history, "stock#1")).toBe(1);
  });
});
