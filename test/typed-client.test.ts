import { env } from "cloudflare:workers";
import { describe, expect, expectTypeOf, it } from "vitest";
import { UnknownWorkflowError } from "../core/errors";
import type { InstanceStatus } from "../core/status";
import { createWorkflows, type WorkersClient } from "../worker";
import { order, report, scorer, signup, type OrderOutput } from "./node/typed-workflows";

/**
 * The Durable Object host's client is typed by the definitions given to
 * createWorkflows, as the memory host's is (test/node/typed-client.test.ts
 * runs the same workflows there). `npm run typecheck` checks this file: each
 * `@ts-expect-error` line must be a compile error, or the check fails. These
 * workflows are not bound in the test Worker, so nothing here reaches an
 * object: the client is built and its names checked, and the rest is types.
 */

const workflows = createWorkflows({ workflows: [order, signup, report, scorer] });
const client = () => workflows.client(env);

describe("the Durable Object host's typed client", () => {
  it("accepts only registered names (and refuses others at run time too)", () => {
    // @ts-expect-error "no-such" is not registered
    expect(() => client().workflow("no-such")).toThrow(UnknownWorkflowError);
    expect(client().workflow("order")).toBeDefined();
    expectTypeOf(client().workflow).toBeCallableWith("scorer");
  });

  it("a machine: create takes its input, sendEvent its events, status gives its output", () => {
    const order = client().workflow("order");
    // @ts-expect-error a param the machine's input does not have
    expectTypeOf(order.create).toBeCallableWith({ params: { wrong: 1 } });
    expectTypeOf(order.create).toBeCallableWith({ params: { orderId: "A-17" } });
    type Order = Awaited<ReturnType<typeof order.create>>;
    // @ts-expect-error the machine takes no "ship" event
    expectTypeOf<Order["sendEvent"]>().toBeCallableWith({ type: "ship" });
    // @ts-expect-error approve's payload is { by: string }
    expectTypeOf<Order["sendEvent"]>().toBeCallableWith({ type: "approve", payload: { by: 1 } });
    expectTypeOf<Order["sendEvent"]>().toBeCallableWith({ type: "approve", payload: { by: "ada" } });
    expectTypeOf<Awaited<ReturnType<Order["status"]>>["output"]>().toEqualTypeOf<OrderOutput | undefined>();
  });

  it("a code-first class: create takes its params, status gives what run() returns", () => {
    const signup = client().workflow("signup");
    // @ts-expect-error a param the class's payload does not have
    expectTypeOf(signup.create).toBeCallableWith({ params: { wrong: 1 } });
    expectTypeOf(signup.create).toBeCallableWith({ params: { email: "ada@example.com" } });
    type Signup = Awaited<ReturnType<typeof signup.get>>;
    expectTypeOf<Signup["sendEvent"]>().toBeCallableWith({ type: "anything", payload: 1 });
    expectTypeOf<Awaited<ReturnType<Signup["status"]>>["output"]>().toEqualTypeOf<{ welcomed: string } | undefined>();
  });

  it("a DAG: create takes its params, sendEvent its gates' events, status gives its output", () => {
    const report = client().workflow("report");
    // @ts-expect-error day is a string
    expectTypeOf(report.create).toBeCallableWith({ params: { day: 1 } });
    type Report = Awaited<ReturnType<typeof report.create>>;
    // @ts-expect-error no gate waits for "approve"
    expectTypeOf<Report["sendEvent"]>().toBeCallableWith({ type: "approve", payload: { by: "ada" } });
    // @ts-expect-error the sign-off gate's payload is { by: string }
    expectTypeOf<Report["sendEvent"]>().toBeCallableWith({ type: "sign-off", payload: { by: true } });
    expectTypeOf<Report["sendEvent"]>().toBeCallableWith({ type: "sign-off", payload: { by: "ada" } });
    expectTypeOf<Awaited<ReturnType<Report["status"]>>["output"]>().toEqualTypeOf<{ day: string; rows: number; by: string } | undefined>();
  });

  it("a Python workflow: its name is checked; params, events and output are not typed", () => {
    const scorer = client().workflow("scorer");
    expectTypeOf(scorer.create).toBeCallableWith({ params: { anything: [1, 2] } });
    type Scorer = Awaited<ReturnType<typeof scorer.create>>;
    expectTypeOf<Scorer["sendEvent"]>().toBeCallableWith({ type: "anything", payload: "at all" });
    expectTypeOf<Scorer["status"]>().returns.resolves.toEqualTypeOf<InstanceStatus<unknown>>();
  });

  it("a client widened to WorkersClient serves any name, untyped", () => {
    const untyped: WorkersClient = client();
    expectTypeOf(untyped.workflow).toBeCallableWith("any-name");
    expectTypeOf(untyped.workflow("order").create).toBeCallableWith({ params: { wrong: 1 } });
    expect(() => untyped.workflow("any-name")).toThrow(UnknownWorkflowError);
  });
});
