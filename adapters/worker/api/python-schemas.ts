import { z } from "@hono/zod-openapi";
import { MAX_ERROR_MESSAGE_CHARS, MAX_ERROR_NAME_CHARS } from "../../../core/planner";
import { MAX_WAIT_MS } from "../../../runtime/python-workers";
import type { ErrorCode } from "./error-codes";
import { coded } from "./validation";

/**
 * The zod schemas of the Python worker protocol's routes (docs/python-protocol.md,
 * version 1): its paths, its bodies and its answers. Every string, array and
 * number a worker sends is bounded here, before the engine sees it; what only
 * the kernel can judge (a step name over 256 characters, a bad step config, a
 * value's metadata) it answers per call, as a `refused` answer run() raises.
 * Unknown fields are dropped: a change an engine of this version could not
 * ignore comes with a new protocol version.
 */

export const PROTOCOL = 1;

/** The most calls one request carries: a worker sends more as several requests, in order. */
export const MAX_CALLS = 1000;

/**
 * Names, keys and event types as sent. Generous on purpose: the kernel refuses a step name over 256 characters or an
 * event type outside Cloudflare's rule with its own message, which run() raises as the TypeScript form's does; this
 * only keeps what is plainly not a name from the engine.
 */
export const MAX_NAME_CHARS = 1024;
const MAX_WORKER_CHARS = 256;
const MAX_LEASE_CHARS = 256;

// ---------------------------------------------------------------- path

export const PythonWorkflowPath = z.object({
  workflow: coded(z.string().min(1).max(64).describe("the name of a workflow served by Python"), "workflow.not_found"),
});
export const PythonInstancePath = PythonWorkflowPath.extend({
  id: coded(z.string().max(100).describe('an instance id: 1 to 100 letters, digits, "-" or "_", not starting with "-"'), "instance.invalid_id"),
});

// ---------------------------------------------------------------- bodies

const protocol = coded(
  z
    .literal(PROTOCOL, {
      error: (issue) =>
        `this engine speaks version ${PROTOCOL} of the Python worker protocol and the worker sent ${typeof issue.input === "number" ? `version ${issue.input}` : "no version"}: upgrade the worker's durable-machines package (or the engine) so that both speak the same version`,
    })
    .describe(`the protocol version, ${PROTOCOL}`),
  "protocol.unsupported" satisfies ErrorCode,
);
const lease = z.string().min(1).max(MAX_LEASE_CHARS).describe("the task's lease token");
const waitMs = z.number().min(0).max(MAX_WAIT_MS).optional().describe(`how long to wait for an answer, 0 to ${MAX_WAIT_MS} ms (default 0)`);
const name = z.string().max(MAX_NAME_CHARS);
const key = z.string().min(1).max(MAX_NAME_CHARS).describe("a key the engine gave");
const attempt = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const message = z.string().max(MAX_ERROR_MESSAGE_CHARS);

const error = z
  .object({ name: z.string().max(MAX_ERROR_NAME_CHARS), message, nonRetryable: z.boolean().optional() })
  .describe(`{ name (at most ${MAX_ERROR_NAME_CHARS} characters), message (at most ${MAX_ERROR_MESSAGE_CHARS}), nonRetryable? }`)
  .openapi("PythonError");
const value = z
  .object({ json: z.unknown().describe("the value as plain JSON"), meta: z.unknown().optional().describe("superjson's metadata: datetimes only") })
  .describe("a value as superjson writes it: { json, meta? }, at most 1 MiB")
  .openapi("PythonValue");
const config = z.record(z.string().max(64), z.unknown()).describe("Cloudflare's step config as JSON; a Python delay function as `delay: { function: true }`");

const fatal = z.object({ attempt: message, instance: message });
const count = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const done = z
  .discriminatedUnion("ok", [z.object({ count, ok: z.literal(true), value: value.optional() }), z.object({ count, ok: z.literal(false), error, fatal: fatal.optional() })])
  .describe("the outcome of the step's first attempt, run before the call was sent in a live pass, and the count its ctx had");
const stepCall = z.object({ type: z.literal("step"), name, config: config.optional(), rollback: z.object({ config: config.optional() }).optional(), done: done.optional() });
const resultCall = z.discriminatedUnion("ok", [
  z.object({ type: z.literal("result"), key, attempt, ok: z.literal(true), value: value.optional() }),
  z.object({
    type: z.literal("result"),
    key,
    attempt,
    ok: z.literal(false),
    error,
    delay: z.union([z.object({ ms: z.number() }), z.object({ error })]).optional(),
    fatal: fatal.optional(),
  }),
]);

export const PythonCall = z
  .discriminatedUnion("type", [
    stepCall,
    resultCall,
    z.object({ type: z.literal("sleep"), name, ms: z.number() }),
    z.object({ type: z.literal("sleepUntil"), name, at: z.number() }),
    z.object({ type: z.literal("wait"), name, eventType: z.string().max(MAX_NAME_CHARS), timeoutMs: z.number().optional() }),
    z.object({ type: z.literal("completed"), output: value.optional() }),
    z.object({ type: z.literal("failed"), error }),
    z.object({ type: z.literal("rollbackResult"), key, attempt, error: error.optional() }),
  ])
  .openapi("PythonCall");

export const ClaimBody = z
  .object({ protocol, worker: z.string().min(1).max(MAX_WORKER_CHARS).describe(`who claims, for the logs: 1 to ${MAX_WORKER_CHARS} characters`), waitMs })
  .openapi("PythonClaim");
export const CallsBody = z
  .object({ protocol, lease, calls: z.array(PythonCall).min(1).max(MAX_CALLS).describe(`1 to ${MAX_CALLS} calls, answered in order`) })
  .openapi("PythonCalls");
export const HeartbeatBody = z.object({ protocol, lease, waitMs }).openapi("PythonHeartbeat");
export const ReleaseBody = z.object({ protocol, lease }).openapi("PythonRelease");

// ---------------------------------------------------------------- answers

const stepContext = z.object({ step: z.object({ name: z.string(), count: z.number().int() }), attempt: z.number().int(), config: z.unknown() });
const wireAttempt = z.object({ attempt: z.number().int(), ctx: stepContext, timeoutMs: z.number() }).openapi("PythonAttempt");

const work = z
  .array(
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("run"), key: z.string(), attempt: wireAttempt }),
      z.object({ type: z.literal("rollback"), key: z.string(), attempt: z.number().int(), ctx: stepContext, error, output: value.nullable(), timeoutMs: z.number() }),
    ]),
  )
  .describe("what the engine wants done now: step attempts to run, rollback handlers to run");
const end = z.boolean().describe("the pass is over: stop run() and drop the lease");

export const ClaimAnswer = z
  .object({
    protocol: z.literal(PROTOCOL),
    task: z.object({
      workflow: z.string(),
      instanceId: z.string(),
      lease: z.string(),
      leaseMs: z.number().int(),
      event: z.object({ payload: value, timestamp: z.number(), instanceId: z.string(), workflowName: z.string() }),
    }),
  })
  .openapi("PythonTask");

const answer = z
  .union([
    z.object({ key: z.string(), value: value.nullable() }),
    z.object({ key: z.string(), error }),
    z.object({ key: z.string(), run: wireAttempt }),
    z.object({ key: z.string(), pending: z.literal(true) }),
    z.object({ refused: error }),
    z.object({ stale: z.literal(true) }),
    z.object({ ok: z.literal(true) }),
  ])
  .openapi("PythonAnswer");

const live = z
  .object({ steps: z.number().int().describe("how many more step calls the step limit allows in this pass") })
  .describe("the pass has caught up with the log: a new step call starts its first attempt at once, so its outcome may come with it (`done`)");
export const CallsAnswer = z.object({ answers: z.array(answer).describe("one per call, in order"), work, end, live: live.optional() }).openapi("PythonCallsAnswer");
export const HeartbeatAnswer = z.object({ work, end, leaseMs: z.number().int().describe("the lease, renewed from this answer") }).openapi("PythonHeartbeatAnswer");
export const ReleaseAnswer = z.object({ work, end }).openapi("PythonReleaseAnswer");
