import { beforeEach, describe, expect, it } from "vitest";
// The only line that differs from the Cloudflare versions of these classes, which would read:
//   import { WorkflowEntrypoint, WorkflowEvent, WorkflowStep } from "cloudflare:workers";
//   import { NonRetryableError } from "cloudflare:workflows";
import { NonRetryableError, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";
import { createManualClock, createMemoryHost, defineWorkflow, type CodeWorkflowOptions, type LogRecord } from "../../index";

/**
 * Workflows of the kind Cloudflare's documentation and its `workflows-starter`
 * template show, written from the documented API as a Cloudflare user would
 * write them. Bindings are simulated: a service binding `API` answers fetch()
 * with canned responses, `EMAIL` and `PAYMENTS` record what they were asked.
 * `ran(name)` counts how many times each step callback ran.
 */

// ---- simulated bindings and a tally of callback runs -------------------------------------------

const runs = new Map<string, number>();
const ran = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);
const count = (name: string) => runs.get(name) ?? 0;

beforeEach(() => runs.clear());

type Route = (request: { url: string; method: string; body?: string; attempt: number }) => Response | Promise<Response>;

/** A service binding whose fetch() answers from routes, keyed "METHOD path". */
function fakeApi(routes: Record<string, Route>) {
  const requests: string[] = [];
  return {
    requests,
    async fetch(url: string, init: { method?: string; body?: string } = {}): Promise<Response> {
      const method = init.method ?? "GET";
      const key = `${method} ${new URL(url).pathname}`;
      requests.push(key);
      const route = routes[key];
      if (!route) return new Response("not found", { status: 404 });
      return route({ url, method, ...(init.body === undefined ? {} : { body: init.body }), attempt: requests.filter((r) => r === key).length });
    },
  };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

interface Email {
  to: string;
  subject: string;
  text: string;
}

function fakeEmail(failFirst = 0) {
  const sent: Email[] = [];
  let attempts = 0;
  return {
    sent,
    async send(message: Email): Promise<{ messageId: string }> {
      attempts++;
      if (attempts <= failFirst) throw new Error("email provider unavailable");
      sent.push(message);
      return { messageId: `msg-${sent.length}` };
    },
  };
}

/** A payment API that deduplicates on an idempotency key, as real ones do. */
function fakePayments() {
  const charges = new Map<string, { amount: number }>();
  let calls = 0;
  return {
    charges,
    calls: () => calls,
    async charge(idempotencyKey: string, amount: number): Promise<{ chargeId: string }> {
      calls++;
      if (!charges.has(idempotencyKey)) charges.set(idempotencyKey, { amount });
      return { chargeId: `ch_${idempotencyKey}` };
    },
  };
}

interface Env {
  API: ReturnType<typeof fakeApi>;
  EMAIL: ReturnType<typeof fakeEmail>;
  PAYMENTS: ReturnType<typeof fakePayments>;
}

// ---- the test harness ----------------------------------------------------------------------------

const NEW_YEAR = Date.parse("2026-01-01T00:00:00Z");
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function run(name: string, entrypoint: CodeWorkflowOptions["entrypoint"], env: Partial<Env>) {
  const clock = createManualClock(NEW_YEAR);
  const host = createMemoryHost({ workflows: [defineWorkflow({ name, entrypoint })], clock, env });
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await flush();
      await host.idle();
    }
  };
  /** Moves time forward and lets everything that came due run. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return { host, clock, settle, advance, client: host.workflow(name) };
}

const startedKeys = (log: LogRecord[]) => log.filter((r): r is LogRecord<"step.started"> => r.type === "step.started").map((r) => `${r.data.key}#${r.data.attempt}`);

// ---- 1. the starter template's shape: fetch-like steps, a sleep, a step with retries and a timeout, an approval ----

type StarterParams = { email: string; metadata: Record<string, string> };

interface IpRanges {
  result: { ipv4_cidrs: string[]; ipv6_cidrs: string[] };
  success: boolean;
}

class MyWorkflow extends WorkflowEntrypoint<Env, StarterParams> {
  async run(event: WorkflowEvent<StarterParams>, step: WorkflowStep) {
    // Values returned from a step are persisted: run() reads them back on every replay.
    // (The template returns the whole `event` here; its `timestamp` is a Date, which this engine's
    // JSON log does not store, so we return the payload, the part the template actually uses.)
    const files = await step.do("list the files to process", async () => {
      ran("list the files to process");
      return {
        inputParams: event.payload,
        files: ["invoice_2025_12.pdf", "contract_acme_v2.pdf", "receipt_0042.pdf"],
      };
    });

    const ipRanges = await step.do("call an API", async () => {
      ran("call an API");
      const response = await this.env.API.fetch("https://api.example.com/client/v4/ips");
      if (!response.ok) throw new Error(`API answered ${response.status}`);
      return (await response.json()) as IpRanges;
    });

    await step.sleep("wait on something", "1 minute");

    await step.do(
      "write the results somewhere that might fail",
      {
        retries: { limit: 5, delay: "5 seconds", backoff: "exponential" },
        timeout: "15 minutes",
      },
      async () => {
        ran("write the results somewhere that might fail");
        const response = await this.env.API.fetch("https://api.example.com/storage/results", {
          method: "PUT",
          body: JSON.stringify({ files: files.files, ranges: ipRanges.result.ipv4_cidrs.length }),
        });
        if (!response.ok) throw new Error("The storage system could not be reached");
      },
    );

    const approval = await step.waitForEvent<{ approved: boolean }>("wait for approval", { type: "approval", timeout: "1 hour" });

    return step.do("report", async () => {
      ran("report");
      return { email: files.inputParams.email, files: files.files.length, approved: approval.payload.approved };
    });
  }
}

describe("the workflows-starter MyWorkflow", () => {
  it("runs each step once, retries the failing write with exponential backoff, and completes after the approval", async () => {
    const API = fakeApi({
      "GET /client/v4/ips": () => json({ result: { ipv4_cidrs: ["173.245.48.0/20", "103.21.244.0/22"], ipv6_cidrs: ["2400:cb00::/32"] }, success: true }),
      "PUT /storage/results": ({ attempt }) => (attempt <= 2 ? new Response("unavailable", { status: 503 }) : new Response(null, { status: 204 })),
    });
    const { client, settle, advance } = run("my-workflow", MyWorkflow, { API });
    const instance = await client.create({ id: "starter-1", params: { email: "ada@example.com", metadata: { source: "signup" } } });
    await settle();
    expect(await instance.status()).toMatchObject({ status: "waiting", value: ["sleep:wait on something-1"] });

    await advance(60_000);
    expect(API.requests).toEqual(["GET /client/v4/ips", "PUT /storage/results"]);
    await advance(5_000);
    await advance(10_000);
    expect(API.requests).toEqual(["GET /client/v4/ips", "PUT /storage/results", "PUT /storage/results", "PUT /storage/results"]);
    expect(await instance.status()).toMatchObject({ status: "waiting", value: ["waitForEvent:wait for approval-1"] });

    await instance.sendEvent({ type: "approval", payload: { approved: true } });
    await settle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { email: "ada@example.com", files: 3, approved: true } });
    expect(Object.fromEntries(runs)).toEqual({
      "list the files to process": 1,
      "call an API": 1,
      "write the results somewhere that might fail": 3,
      report: 1,
    });
  });

  it("errors with the approval wait's timeout when nobody answers within the hour", async () => {
    const API = fakeApi({
      "GET /client/v4/ips": () => json({ result: { ipv4_cidrs: [], ipv6_cidrs: [] }, success: true }),
      "PUT /storage/results": () => new Response(null, { status: 204 }),
    });
    const { client, settle, advance } = run("my-workflow", MyWorkflow, { API });
    const instance = await client.create({ id: "starter-2", params: { email: "bob@example.com", metadata: {} } });
    await settle();
    await advance(60_000);
    await advance(3_600_000 - 1);
    expect((await instance.status()).status).toBe("waiting");
    await advance(1);
    expect(await instance.status()).toMatchObject({
      status: "errored",
      error: { name: "WorkflowTimeoutError", message: "Execution timed out after 3600000ms" },
    });
    expect(count("report")).toBe(0);
    expect(count("write the results somewhere that might fail")).toBe(1);
  });

  it("survives a crash during the sleep: nothing that finished runs again", async () => {
    const API = fakeApi({
      "GET /client/v4/ips": () => json({ result: { ipv4_cidrs: ["173.245.48.0/20"], ipv6_cidrs: [] }, success: true }),
      "PUT /storage/results": () => new Response(null, { status: 204 }),
    });
    const { host, client, settle, advance } = run("my-workflow", MyWorkflow, { API });
    const instance = await client.create({ id: "starter-3", params: { email: "cy@example.com", metadata: {} } });
    await settle();
    host.crash();
    await settle();
    await advance(60_000);
    await instance.sendEvent({ type: "approval", payload: { approved: false } });
    await settle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { email: "cy@example.com", files: 3, approved: false } });
    expect(API.requests).toEqual(["GET /client/v4/ips", "PUT /storage/results"]);
    expect(Object.fromEntries(runs)).toEqual({
      "list the files to process": 1,
      "call an API": 1,
      "write the results somewhere that might fail": 1,
      report: 1,
    });
  });
});

// ---- 2. send an email once a human approves --------------------------------------------------------

type SignupParams = { email: string; name: string };

class SignupApprovalWorkflow extends WorkflowEntrypoint<Env, SignupParams> {
  async run(event: WorkflowEvent<SignupParams>, step: WorkflowStep) {
    const request = await step.do("open an approval request", async () => {
      ran("open an approval request");
      const response = await this.env.API.fetch("https://api.example.com/approvals", {
        method: "POST",
        body: JSON.stringify({ email: event.payload.email }),
      });
      return (await response.json()) as { requestId: string };
    });

    let decision;
    try {
      decision = await step.waitForEvent<{ approved: boolean; reviewer: string }>("wait for a reviewer", {
        type: "signup-reviewed",
        timeout: "2 days",
      });
    } catch {
      await step.do("close the expired request", async () => {
        ran("close the expired request");
        await this.env.API.fetch(`https://api.example.com/approvals/${request.requestId}`, { method: "DELETE" });
      });
      return { outcome: "expired", requestId: request.requestId };
    }

    if (!decision.payload.approved) {
      return { outcome: "rejected", reviewer: decision.payload.reviewer };
    }

    const sent = await step.do(
      "send the welcome email",
      { retries: { limit: 3, delay: "30 seconds", backoff: "constant" }, timeout: "1 minute" },
      async () => {
        ran("send the welcome email");
        return this.env.EMAIL.send({
          to: event.payload.email,
          subject: `Welcome aboard, ${event.payload.name}`,
          text: `Your account was approved by ${decision.payload.reviewer}.`,
        });
      },
    );
    return { outcome: "approved", messageId: sent.messageId, requestId: request.requestId };
  }
}

describe("an email sent after an approval event", () => {
  const api = () =>
    fakeApi({
      "POST /approvals": () => json({ requestId: "req-1" }),
      "DELETE /approvals/req-1": () => new Response(null, { status: 204 }),
    });

  it("sends the email once the reviewer approves, retrying the provider's outage", async () => {
    const API = api();
    const EMAIL = fakeEmail(1);
    const { client, settle, advance } = run("signup", SignupApprovalWorkflow, { API, EMAIL });
    const instance = await client.create({ id: "signup-1", params: { email: "ada@example.com", name: "Ada" } });
    await settle();
    expect(EMAIL.sent).toEqual([]);
    await advance(86_400_000);
    await instance.sendEvent({ type: "signup-reviewed", payload: { approved: true, reviewer: "Grace" } });
    await settle();
    expect((await instance.status()).status).toBe("waiting");
    await advance(30_000);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { outcome: "approved", messageId: "msg-1", requestId: "req-1" } });
    expect(EMAIL.sent).toEqual([{ to: "ada@example.com", subject: "Welcome aboard, Ada", text: "Your account was approved by Grace." }]);
    expect(Object.fromEntries(runs)).toEqual({ "open an approval request": 1, "send the welcome email": 2 });
  });

  it("takes an approval sent before the workflow reached its wait", async () => {
    const EMAIL = fakeEmail();
    const { client, settle } = run("signup", SignupApprovalWorkflow, { API: api(), EMAIL });
    const instance = await client.create({ id: "signup-2", params: { email: "lin@example.com", name: "Lin" } });
    await instance.sendEvent({ type: "signup-reviewed", payload: { approved: true, reviewer: "Ken" } });
    await settle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { outcome: "approved", messageId: "msg-1" } });
    expect(EMAIL.sent).toHaveLength(1);
    expect(Object.fromEntries(runs)).toEqual({ "open an approval request": 1, "send the welcome email": 1 });
  });

  it("sends nothing when the reviewer rejects", async () => {
    const EMAIL = fakeEmail();
    const { client, settle } = run("signup", SignupApprovalWorkflow, { API: api(), EMAIL });
    const instance = await client.create({ id: "signup-3", params: { email: "eve@example.com", name: "Eve" } });
    await settle();
    await instance.sendEvent({ type: "signup-reviewed", payload: { approved: false, reviewer: "Grace" } });
    await settle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { outcome: "rejected", reviewer: "Grace" } });
    expect(EMAIL.sent).toEqual([]);
    expect(Object.fromEntries(runs)).toEqual({ "open an approval request": 1 });
  });

  it("closes the request when nobody reviews it within two days", async () => {
    const API = api();
    const EMAIL = fakeEmail();
    const { client, settle, advance } = run("signup", SignupApprovalWorkflow, { API, EMAIL });
    const instance = await client.create({ id: "signup-4", params: { email: "mo@example.com", name: "Mo" } });
    await settle();
    await advance(2 * 86_400_000);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { outcome: "expired", requestId: "req-1" } });
    expect(API.requests).toEqual(["POST /approvals", "DELETE /approvals/req-1"]);
    expect(EMAIL.sent).toEqual([]);
    expect(Object.fromEntries(runs)).toEqual({ "open an approval request": 1, "close the expired request": 1 });
  });
});

// ---- 3. a loop with one step per item, named deterministically ------------------------------------

type Order = { id: string; amount: number };

class ChargeOrdersWorkflow extends WorkflowEntrypoint<Env, { batch: string }> {
  async run(event: WorkflowEvent<{ batch: string }>, step: WorkflowStep) {
    const orders = await step.do("fetch the pending orders", async () => {
      ran("fetch the pending orders");
      const response = await this.env.API.fetch(`https://api.example.com/batches/${event.payload.batch}/orders`);
      return (await response.json()) as Order[];
    });

    let total = 0;
    for (const order of orders) {
      // One step per item, named after the item: each charge is durable on its own.
      const charge = await step.do(`charge order ${order.id}`, async () => {
        ran(`charge order ${order.id}`);
        // The instance id and order id make an idempotency key that stays the same on every attempt.
        return this.env.PAYMENTS.charge(`${event.instanceId}-${order.id}`, order.amount);
      });
      total += order.amount;
      await step.do(`mark order ${order.id} paid`, async () => {
        ran(`mark order ${order.id} paid`);
        await this.env.API.fetch(`https://api.example.com/orders/${order.id}`, { method: "PATCH", body: JSON.stringify({ chargeId: charge.chargeId }) });
      });
    }
    return { charged: orders.length, total };
  }
}

describe("a loop that processes items with step.do per item", () => {
  const orders: Order[] = [
    { id: "o-1", amount: 20 },
    { id: "o-2", amount: 35 },
    { id: "o-3", amount: 5 },
  ];

  it("runs one step per item and completes with the totals", async () => {
    const PAYMENTS = fakePayments();
    const API = fakeApi({
      "GET /batches/b-7/orders": () => json(orders),
      "PATCH /orders/o-1": () => new Response(null, { status: 204 }),
      "PATCH /orders/o-2": () => new Response(null, { status: 204 }),
      "PATCH /orders/o-3": () => new Response(null, { status: 204 }),
    });
    const { client, settle } = run("charge-orders", ChargeOrdersWorkflow, { API, PAYMENTS });
    const instance = await client.create({ id: "batch-7", params: { batch: "b-7" } });
    await settle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { charged: 3, total: 60 } });
    expect([...PAYMENTS.charges.keys()]).toEqual(["batch-7-o-1", "batch-7-o-2", "batch-7-o-3"]);
    expect(count("fetch the pending orders")).toBe(1);
    for (const order of orders) {
      expect(count(`charge order ${order.id}`)).toBe(1);
      expect(count(`mark order ${order.id} paid`)).toBe(1);
    }
  });

  it("after a crash mid-charge, re-runs only the charge in flight, and the idempotency key keeps it a single charge", async () => {
    const PAYMENTS = fakePayments();
    let releaseSecondPatch = () => undefined as void;
    const API = fakeApi({
      "GET /batches/b-8/orders": () => json(orders),
      "PATCH /orders/o-1": () => new Response(null, { status: 204 }),
      // The first update of o-2 hangs until the crash has happened.
      "PATCH /orders/o-2": ({ attempt }) =>
        attempt === 1 ? new Promise<Response>((resolve) => (releaseSecondPatch = () => resolve(new Response(null, { status: 204 })))) : new Response(null, { status: 204 }),
      "PATCH /orders/o-3": () => new Response(null, { status: 204 }),
    });
    const { host, client, settle } = run("charge-orders", ChargeOrdersWorkflow, { API, PAYMENTS });
    const instance = await client.create({ id: "batch-8", params: { batch: "b-8" } });
    for (let i = 0; i < 10; i++) await flush();
    expect((await instance.status()).value).toEqual(["do:mark order o-2 paid-1"]);
    host.crash();
    await settle();
    releaseSecondPatch();
    await settle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { charged: 3, total: 60 } });
    expect(PAYMENTS.calls()).toBe(3);
    expect(PAYMENTS.charges.size).toBe(3);
    expect(Object.fromEntries(runs)).toEqual({
      "fetch the pending orders": 1,
      "charge order o-1": 1,
      "mark order o-1 paid": 1,
      "charge order o-2": 1,
      "mark order o-2 paid": 2,
      "charge order o-3": 1,
      "mark order o-3 paid": 1,
    });
    expect(startedKeys(await instance.history())).toContain("do:mark order o-2 paid-1#2");
  });
});

// ---- 4. fan-out with Promise.all ----------------------------------------------------------------

type Region = "weur" | "enam" | "apac";

class RegionReportWorkflow extends WorkflowEntrypoint<Env, { regions: Region[] }> {
  async run(event: WorkflowEvent<{ regions: Region[] }>, step: WorkflowStep) {
    // Steps started together run concurrently; each one is still retried and recorded on its own.
    const reports = await Promise.all(
      event.payload.regions.map((region) =>
        step.do(`collect ${region}`, { retries: { limit: 2, delay: "2 seconds", backoff: "constant" } }, async () => {
          ran(`collect ${region}`);
          const response = await this.env.API.fetch(`https://api.example.com/regions/${region}/stats`);
          if (!response.ok) throw new Error(`${region} answered ${response.status}`);
          return (await response.json()) as { region: Region; requests: number };
        }),
      ),
    );

    const [total, busiest] = await Promise.all([
      step.do("sum the requests", async () => (ran("sum the requests"), reports.reduce((sum, r) => sum + r.requests, 0))),
      step.do("find the busiest region", async () => (ran("find the busiest region"), [...reports].sort((a, b) => b.requests - a.requests)[0]!.region)),
    ]);

    await step.do("publish the report", async () => {
      ran("publish the report");
      await this.env.EMAIL.send({ to: "ops@example.com", subject: "Daily traffic", text: `${total} requests, busiest: ${busiest}` });
    });
    return { total, busiest, regions: reports.map((r) => r.region) };
  }
}

describe("Promise.all fan-out", () => {
  it("runs the branches concurrently, retries the one that fails, and joins them in order", async () => {
    const API = fakeApi({
      "GET /regions/weur/stats": () => json({ region: "weur", requests: 1200 }),
      "GET /regions/enam/stats": ({ attempt }) => (attempt === 1 ? new Response("busy", { status: 503 }) : json({ region: "enam", requests: 3400 })),
      "GET /regions/apac/stats": () => json({ region: "apac", requests: 800 }),
    });
    const EMAIL = fakeEmail();
    const { client, settle, advance } = run("region-report", RegionReportWorkflow, { API, EMAIL });
    const instance = await client.create({ id: "report-1", params: { regions: ["weur", "enam", "apac"] } });
    await settle();
    // All three branches started before any of them finished.
    const log = await instance.history();
    expect(log.slice(1, 4).map((r) => r.type)).toEqual(["step.started", "step.started", "step.started"]);
    expect(startedKeys(log).slice(0, 3)).toEqual(["do:collect weur-1#1", "do:collect enam-1#1", "do:collect apac-1#1"]);
    expect(await instance.status()).toMatchObject({ status: "waiting", value: ["do:collect enam-1"] });
    await advance(2_000);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { total: 5400, busiest: "enam", regions: ["weur", "enam", "apac"] } });
    expect(EMAIL.sent).toEqual([{ to: "ops@example.com", subject: "Daily traffic", text: "5400 requests, busiest: enam" }]);
    expect(Object.fromEntries(runs)).toEqual({
      "collect weur": 1,
      "collect enam": 2,
      "collect apac": 1,
      "sum the requests": 1,
      "find the busiest region": 1,
      "publish the report": 1,
    });
  });
});

// ---- 5. errors: NonRetryableError for bad input, try/catch around a step to clean up ---------------

class ImportWorkflow extends WorkflowEntrypoint<Env, { url?: string }> {
  async run(event: WorkflowEvent<{ url?: string }>, step: WorkflowStep) {
    await step.do("validate the input", async () => {
      ran("validate the input");
      if (!event.payload.url) {
        // No retry can fix a bad payload.
        throw new NonRetryableError("the payload has no url to import from");
      }
    });

    try {
      await step.do("import the file", { retries: { limit: 2, delay: 1000, backoff: "linear" } }, async () => {
        ran("import the file");
        const response = await this.env.API.fetch(event.payload.url!);
        if (!response.ok) throw new Error(`import failed with ${response.status}`);
        return (await response.json()) as { rows: number };
      });
    } catch (error) {
      // Every retry failed: clean up, and report what went wrong.
      await step.do("clean up the partial import", async () => {
        ran("clean up the partial import");
      });
      return { imported: false, reason: (error as Error).message };
    }
    return { imported: true };
  }
}

describe("errors in the documented patterns", () => {
  it("a NonRetryableError fails the instance at once, with no retries", async () => {
    const { client, settle, advance } = run("import", ImportWorkflow, { API: fakeApi({}) });
    const instance = await client.create({ id: "import-1", params: {} });
    await settle();
    await advance(60_000);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "NonRetryableError", message: "the payload has no url to import from" } });
    expect(Object.fromEntries(runs)).toEqual({ "validate the input": 1 });
  });

  it("a step that exhausts its retries throws into run(), which cleans up and finishes", async () => {
    const API = fakeApi({ "GET /exports/today.json": () => new Response("gone", { status: 500 }) });
    const { client, settle, advance } = run("import", ImportWorkflow, { API });
    const instance = await client.create({ id: "import-2", params: { url: "https://files.example.com/exports/today.json" } });
    await settle();
    await advance(1000);
    await advance(2000);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { imported: false, reason: "import failed with 500" } });
    expect(Object.fromEntries(runs)).toEqual({ "validate the input": 1, "import the file": 3, "clean up the partial import": 1 });
  });
});

// ---- 6. sleepUntil a date, and values made non-deterministic only inside steps --------------------

class LaunchReminderWorkflow extends WorkflowEntrypoint<Env, { email: string; launchAt: string }> {
  async run(event: WorkflowEvent<{ email: string; launchAt: string }>, step: WorkflowStep) {
    // Random values and the current time come from steps, so a replay sees the same ones.
    const ticket = await step.do("issue a ticket", async () => {
      ran("issue a ticket");
      return { code: crypto.randomUUID(), issuedAt: Date.now() };
    });
    await step.sleepUntil("wait for the launch", new Date(event.payload.launchAt));
    await step.do("send the reminder", async () => {
      ran("send the reminder");
      await this.env.EMAIL.send({ to: event.payload.email, subject: "We are live", text: `Your ticket: ${ticket.code}` });
    });
    return ticket;
  }
}

describe("sleepUntil and deterministic replay", () => {
  it("sleeps until the given date, and a crash meanwhile changes nothing already decided", async () => {
    const EMAIL = fakeEmail();
    const { host, client, settle, advance } = run("launch", LaunchReminderWorkflow, { EMAIL });
    const instance = await client.create({ id: "launch-1", params: { email: "ada@example.com", launchAt: "2026-01-02T09:00:00Z" } });
    await settle();
    const [issued] = (await instance.history()).filter((r): r is LogRecord<"step.succeeded"> => r.type === "step.succeeded");
    const ticket = issued!.data.output as { code: string; issuedAt: number };
    expect(typeof ticket.code).toBe("string");
    host.crash();
    await settle();
    await advance(Date.parse("2026-01-02T09:00:00Z") - NEW_YEAR - 1);
    expect(EMAIL.sent).toEqual([]);
    await advance(1);
    expect(await instance.status()).toMatchObject({ status: "complete", output: ticket });
    expect(EMAIL.sent).toEqual([{ to: "ada@example.com", subject: "We are live", text: `Your ticket: ${ticket.code}` }]);
    expect(Object.fromEntries(runs)).toEqual({ "issue a ticket": 1, "send the reminder": 1 });
  });
});
