import { describe, expect, expectTypeOf, it } from "vitest";
import { createManualClock, createMemoryHost, UnknownWorkflowError, type InstanceHandle, type InstanceStatus, type MemoryHost } from "../../index";
import { order, report, scorer, signup, type OrderOutput } from "./typed-workflows";

/**
 * The memory host's client is typed by the definitions it was given.
 * `npm run typecheck` checks this file: each `@ts-expect-error` line must be
 * a compile error, or the check fails. The tests also run each workflow, so
 * what the types promise is what the host gives.
 */

const host = () => createMemoryHost({ workflows: [order, signup, report, scorer], clock: createManualClock() });

describe("the memory host's typed client", () => {
  it("accepts only registered names (and refuses others at run time too)", () => {
    const served = host();
    // @ts-expect-error "no-such" is not registered
    expect(() => served.workflow("no-such")).toThrow(UnknownWorkflowError);
    expectTypeOf(served.workflow).toBeCallableWith("order");
    expectTypeOf(served.workflow).toBeCallableWith("scorer");
  });

  it("a machine: create takes its input, sendEvent its events, status gives its output", async () => {
    const served = host();
    const client = served.workflow("order");
    // @ts-expect-error a param the machine's input does not have
    expectTypeOf(client.create).toBeCallableWith({ params: { wrong: 1 } });
    // @ts-expect-error orderId is a string
    expectTypeOf(client.create).toBeCallableWith({ params: { orderId: 1 } });
    const instance = await client.create({ id: "o-1", params: { orderId: "A-17" } });
    // @ts-expect-error the machine takes no "ship" event
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "ship" });
    // @ts-expect-error approve's payload is { by: string }
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "approve", payload: { by: 1 } });
    // @ts-expect-error approve needs its payload
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "approve" });
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "cancel", idempotencyKey: "k" });
    await instance.sendEvent({ type: "approve", payload: { by: "ada" } });
    await served.idle();
    const status = await instance.status();
    expectTypeOf(status.output).toEqualTypeOf<OrderOutput | undefined>();
    expect(status).toMatchObject({ status: "complete", output: { receipt: "A-17 approved by ada" } });
  });

  it("a code-first class: create takes its params, status gives what run() returns", async () => {
    const served = host();
    const client = served.workflow("signup");
    // @ts-expect-error a param the class's payload does not have
    expectTypeOf(client.create).toBeCallableWith({ params: { wrong: 1 } });
    const instance = await client.create({ id: "s-1", params: { email: "ada@example.com" } });
    // A class's waitForEvent() names its own types, so its client takes any event.
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "anything", payload: { at: 1 } });
    await served.idle();
    await instance.sendEvent({ type: "confirm", payload: { code: "42" } });
    await served.idle();
    const status = await instance.status();
    expectTypeOf(status.output).toEqualTypeOf<{ welcomed: string } | undefined>();
    expect(status).toMatchObject({ status: "complete", output: { welcomed: "ada@example.com (42)" } });
  });

  it("a DAG: create takes its params, sendEvent its gates' events, status gives its output", async () => {
    const served = host();
    const client = served.workflow("report");
    // @ts-expect-error day is a string
    expectTypeOf(client.create).toBeCallableWith({ params: { day: 1 } });
    const instance = await client.create({ id: "r-1", params: { day: "monday" } });
    // @ts-expect-error no gate waits for "approve"
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "approve", payload: { by: "ada" } });
    // @ts-expect-error the sign-off gate's payload is { by: string }
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "sign-off", payload: { by: true } });
    await served.idle();
    await instance.sendEvent({ type: "sign-off", payload: { by: "ada" } });
    await served.idle();
    const status = await instance.status();
    expectTypeOf(status.output).toEqualTypeOf<{ day: string; rows: number; by: string } | undefined>();
    expect(status).toMatchObject({ status: "complete", output: { day: "monday", rows: 6, by: "ada" } });
  });

  it("a Python workflow: its name is checked; params, events and output are not typed", async () => {
    const served = host();
    const client = served.workflow("scorer");
    expectTypeOf(client.create).toBeCallableWith({ params: { anything: [1, 2] } });
    const instance = await client.create({ id: "p-1", params: { anything: [1, 2] } });
    expectTypeOf(instance.sendEvent).toBeCallableWith({ type: "anything", payload: "at all" });
    expectTypeOf(instance.status).returns.resolves.toEqualTypeOf<InstanceStatus<unknown>>();
    // Its params reach the Python worker that claims it, as given.
    const task = await served.python("scorer").claim("worker-1", 0);
    expect(task?.event.payload).toEqual({ json: { anything: [1, 2] } });
  });

  it("a host widened to MemoryHost serves any name, untyped, as a host built from an untyped list does", () => {
    const untyped: MemoryHost = host();
    expectTypeOf(untyped.workflow).toBeCallableWith("any-name");
    expectTypeOf(untyped.workflow("order").create).toBeCallableWith({ params: { wrong: 1 } });
    expectTypeOf(untyped.workflow("order").create).returns.resolves.toEqualTypeOf<InstanceHandle>();
    expect(() => untyped.workflow("any-name")).toThrow(UnknownWorkflowError);
  });
});
