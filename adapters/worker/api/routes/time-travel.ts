import { z } from "@hono/zod-openapi";
import { INSTANCE_STATUSES } from "../../../../core/status";
import type { ApiHost } from "../app";
import { endpoint, type Endpoint } from "../endpoint";
import { InstancePath } from "../schemas";
import { coded } from "../validation";

/** `after`: a record's seq in plain decimal digits; whether the log reaches it only the instance can say. */
export const StateQuery = z.object({
  after: coded(
    z
      .string()
      .regex(/^[0-9]{1,16}$/)
      .transform(Number)
      .pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER))
      .describe("the seq of the record the instance is shown after: a whole number from 1 to the log's last seq, in plain decimal digits"),
    "history.invalid_range",
  ),
});

const json = z.unknown().describe("JSON");
const publicError = z.object({ name: z.string(), message: z.string() });
const common = {
  seq: z.number().int().describe("the record the instance is shown after"),
  at: z.number().describe("that record's time, in ms since the epoch"),
  status: z.enum(INSTANCE_STATUSES as [string, ...string[]]),
  output: json.optional(),
  error: publicError.optional(),
};

export const StateAnswer = z
  .discriminatedUnion("kind", [
    z.object({
      kind: z.literal("machine"),
      ...common,
      value: json.describe("the machine's state value: the states the diagram lights"),
      context: json.optional().describe("the machine's context; absent, with contextOmitted, past 4 MiB of JSON"),
      contextOmitted: z.literal(true).optional(),
      steps: z.array(z.object({ key: z.string(), src: z.string(), attempt: z.number().int(), phase: z.enum(["ready", "running", "backoff", "settled"]), retryAt: z.number().optional() })),
      timers: z.array(z.object({ id: z.string(), dueAt: z.number() })),
    }),
    z.object({
      kind: z.literal("code"),
      ...common,
      results: z
        .array(
          z.union([
            z.object({ key: z.string(), ok: z.literal(true), output: json.optional(), streamed: z.literal(true).optional(), outputOmitted: z.literal(true).optional() }),
            z.object({ key: z.string(), ok: z.literal(false), error: publicError }),
          ]),
        )
        .describe('settled steps in the order they settled; sensitive outputs "[REDACTED]", outputs past 4 MiB in all left out (outputOmitted)'),
      waitingOn: z.array(z.string()).describe("the open step, sleep and event-wait keys"),
    }),
  ])
  .openapi("InstanceState");

/** Time travel: the instance as it stood after any record of its log. */
export function timeTravelEndpoints(host: ApiHost): Endpoint[] {
  return [
    endpoint({
      method: "get",
      path: "/api/workflows/{name}/instances/{id}/state",
      summary: "The instance as it stood after record `after` of its log, folded as recovery folds it: a machine's state value, context and status, a code-first run's step results and status",
      params: InstancePath,
      query: StateQuery,
      answers: { 200: { description: "the instance after that record", schema: StateAnswer } },
      errors: ["workflow.not_found", "instance.invalid_id", "instance.not_found", "definition.mismatch", "history.invalid_range"],
      handle: async (c, { params: { name, id }, query: { after } }) => c.json(await (await host.client(c.env).workflow(name).get(id)).stateAfter(after)),
    }),
  ];
}
