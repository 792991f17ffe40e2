import { z } from "@hono/zod-openapi";
import { LOCATION_HINTS } from "../../../core/location-hint";
import { INSTANCE_STATUSES } from "../../../core/status";
import { LIST_ORDERS, MAX_BATCH, MAX_LIST_LIMIT } from "../../../runtime/client";
import { ERROR_STATUS, type ErrorCode } from "./error-codes";
import { coded } from "./validation";

/**
 * The zod schemas of every path, query, body and answer of the API: the
 * validators check requests with them, and the OpenAPI document is generated
 * from them. Requests are typed and bounded here (strings, lengths, counts,
 * numbers); what only the engine can judge (whether an id is free, a step
 * key is in the history) it judges, with its own codes.
 */

// ---------------------------------------------------------------- path

const workflowName = coded(
  z.string().min(1).max(64).describe('the name of a registered workflow (1 to 64 letters, digits, "-" or "_")'),
  "workflow.not_found",
);
const instanceId = z.string().max(100).describe('an instance id: 1 to 100 letters, digits, "-" or "_", not starting with "-"');

export const WorkflowPath = z.object({ name: workflowName });
export const InstancePath = z.object({ name: workflowName, id: coded(instanceId, "instance.invalid_id") });

// ---------------------------------------------------------------- query

/** A whole number in a query: plain decimal digits only (no sign, spaces, exponent or hex), at most `max`. */
function wholeNumber(max: number, what: string) {
  return z
    .string()
    .regex(/^[0-9]{1,16}$/)
    .transform(Number)
    .pipe(z.number().max(max))
    .describe(`${what}: a whole number from 0 to ${max}, in plain decimal digits`);
}

export const ListQuery = z.object({
  status: coded(z.enum(INSTANCE_STATUSES as [string, ...string[]]).optional().describe("only instances with this status"), "list.invalid_status"),
  limit: wholeNumber(MAX_LIST_LIMIT, "how many instances a page holds (default 100)")
    .refine((limit) => limit >= 1, { message: "a page holds at least 1 instance", params: { code: "list.invalid_limit" satisfies ErrorCode } })
    .optional(),
  cursor: z.string().max(256).optional().describe("the `cursor` of the previous page, with the same `order`"),
  order: coded(
    z.enum(LIST_ORDERS).optional().describe('"newest" (the default): the newest created first; "oldest": the oldest first; instances created in the same millisecond by id'),
    "list.invalid_order",
  ),
});

export const HistoryQuery = z.object({
  after: wholeNumber(Number.MAX_SAFE_INTEGER, "the seq the page starts after (default 0)").optional(),
  limit: wholeNumber(MAX_LIST_LIMIT, "the most records the page holds (default and most 1,000; a page also stops at 4 MiB, and `next` says where to go on)").optional(),
});

export const StepsQuery = z.object({
  after: wholeNumber(Number.MAX_SAFE_INTEGER, "how many steps earlier pages held (default 0)").optional(),
  limit: wholeNumber(MAX_LIST_LIMIT, "the most steps the page holds (default and most 1,000; a page also stops at 4 MiB, and `next` says where to go on)")
    .refine((limit) => limit >= 1, { message: "a page holds at least 1 step" })
    .optional(),
});

export const StreamQuery = z.object({
  cursor: coded(z.string().regex(/^[0-9]{1,16}$/).optional().describe("resume after this eventId (`Last-Event-ID` wins)"), "subscription.invalid"),
  filter: coded(z.array(z.string().max(512)).max(64).optional().describe("event types, comma-separated or repeated"), "subscription.invalid"),
  ticket: z.string().max(256).optional().describe("a ticket from POST /api/tickets for this path, where the client cannot send `Authorization`"),
});

export const ChangesQuery = z.object({
  ticket: z.string().max(256).optional().describe("a ticket from POST /api/tickets for this path, where the client cannot send `Authorization` (an EventSource)"),
});

export const InspectQuery = z.object({
  ticket: z.string().max(256).optional().describe("a ticket from POST /api/tickets for this path: a browser's WebSocket cannot send `Authorization`"),
});

/** Query keys that may be repeated; every other key given twice is refused. */
export const REPEATABLE_QUERY_KEYS: ReadonlySet<string> = new Set(["filter"]);

// ---------------------------------------------------------------- bodies

const duration = z.union([z.number(), z.string().max(64)]).describe('whole milliseconds above 0, or a string like "7 days"');
const retention = coded(
  z
    .object({ successRetention: duration.optional(), errorRetention: duration.optional() })
    .strict()
    .optional()
    .describe("how long the instance is kept once finished: { successRetention?, errorRetention? }"),
  "retention.invalid",
);
const locationHint = coded(z.enum(LOCATION_HINTS).optional().describe("where the instance's Durable Object starts"), "location_hint.invalid");
const params = z.unknown().optional().describe("the instance's params: any JSON, at most 1 MiB");

export const CreateBody = z
  .object({ id: coded(instanceId.optional(), "instance.invalid_id"), params, retention, locationHint })
  .openapi("CreateInstance");

export const BatchCreateBody = coded(
  z
    .object({
      instances: z
        .array(z.object({ id: coded(instanceId.optional(), "instance.invalid_id"), params, retention, locationHint }))
        .min(1)
        .max(MAX_BATCH)
        .optional()
        .describe(`1 to ${MAX_BATCH} instances to create, each tried on its own`),
      count: z.number().int().min(1).max(MAX_BATCH).optional().describe(`or: how many instances to create with random ids (1 to ${MAX_BATCH})`),
      params,
      retention,
      locationHint,
    })
    .refine((batch) => (batch.instances === undefined) !== (batch.count === undefined), { message: "give either `instances` or `count`" })
    .describe(`{ instances } or { count, params?, retention?, locationHint? }`)
    .openapi("CreateBatch"),
  "batch.invalid",
);

export const BatchDeleteBody = z
  .object({
    ids: coded(
      z
        .array(coded(instanceId, "instance.invalid_id"))
        .min(1)
        .max(MAX_BATCH)
        .describe(`1 to ${MAX_BATCH} instance ids`),
      "batch.invalid",
    ),
  })
  .openapi("DeleteBatch");

export const EventBody = z
  .object({
    type: coded(z.string().max(100).describe('the event type: 1 to 100 letters, digits, "-" or "_", not starting with "-"'), "event.invalid"),
    payload: z.unknown().optional().describe("any JSON, at most 1 MiB"),
    idempotencyKey: coded(z.string().min(1).max(256).optional().describe("1 to 256 characters: a second event with the same key is accepted and ignored"), "event.invalid"),
  })
  .openapi("SendEvent");

export const TicketBody = z
  .object({ path: z.string().min(1).max(2048).describe("the path the ticket opens, as the client will request it: /api/workflows/{name}/instances/{id}/inspect or …/events, or /api/workflows/{name}/changes") })
  .strict()
  .openapi("TicketRequest");

/** Pause and resume take no options; a body, if sent, must still be a JSON object. */
export const NoOptionsBody = z.object({}).openapi("NoOptions");

export const TerminateBody = z
  .object({ rollback: z.boolean().optional().describe("run the rollback handlers or compensations of the started steps first") })
  .openapi("Terminate");

export const RestartBody = z
  .object({
    from: coded(
      z
        .union([
          z.string().min(1).max(1024),
          z.object({
            name: z.string().min(1).max(1024),
            count: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
            type: z.enum(["do", "sleep", "waitForEvent"]).optional(),
          }),
        ])
        .optional()
        .describe("a step's key as /steps or the history shows it, or Cloudflare's { name, count?, type? }; the start when absent"),
      "restart.invalid_from",
    ),
  })
  .openapi("Restart");

// ---------------------------------------------------------------- answers

const statusName = z.enum(INSTANCE_STATUSES as [string, ...string[]]);
const json = z.unknown().describe("JSON");

export const InstanceStatusAnswer = z
  .object({
    id: z.string(),
    status: statusName,
    value: json.describe("the machine's state value"),
    output: json.optional(),
    error: z.object({ name: z.string(), message: z.string() }).optional(),
  })
  .openapi("InstanceStatus");

export const TicketAnswer = z
  .object({ ticket: z.string().describe("send as ?ticket= on GET of the path it was issued for"), expiresAt: z.number().int().describe("when it stops opening the path, epoch milliseconds") })
  .openapi("Ticket");

export const WorkflowsAnswer = z.object({ workflows: z.array(z.string()) }).openapi("Workflows");
export const CountsAnswer = z.object({ name: z.string(), counts: z.record(statusName, z.number().int()) }).openapi("Counts");
export const InstanceListAnswer = z
  .object({
    instances: z.array(z.object({ id: z.string(), status: statusName, createdAt: z.number(), updatedAt: z.number() })),
    cursor: z.string().optional().describe("present when more instances follow"),
  })
  .openapi("InstanceList");
export const DeletedAllAnswer = z.object({ deleted: z.number().int() }).openapi("DeletedAll");
export const DeletedAnswer = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("Deleted");

const batchErrorCode = z.string().describe("the refusal's code, as in the error list");
export const BatchCreatedAnswer = z
  .object({
    created: z.array(z.object({ id: z.string() })),
    errors: z.array(z.object({ index: z.number().int(), id: z.string().optional(), code: batchErrorCode, message: z.string() })),
  })
  .openapi("BatchCreated");
export const BatchDeletedAnswer = z
  .object({
    deleted: z.array(z.object({ id: z.string() })),
    errors: z.array(z.object({ id: z.string(), code: batchErrorCode, message: z.string() })),
  })
  .openapi("BatchDeleted");

export const HistoryAnswer = z
  .object({
    records: z.array(z.object({ seq: z.number().int(), at: z.number(), type: z.string(), data: json })),
    next: z.number().int().optional().describe("`after` for the next page; present only when more records follow"),
  })
  .openapi("History");
export const StepsAnswer = z
  .object({
    steps: z.array(z.record(z.string(), json)),
    next: z.number().int().optional().describe("`after` for the next page; present only when more steps follow"),
  })
  .openapi("Steps");

/** An error answer, its code one of `codes`. */
export function errorAnswer(codes: readonly ErrorCode[]) {
  return z.object({
    error: z.object({ code: z.enum(codes as [ErrorCode, ...ErrorCode[]]), message: z.string().describe("what went wrong and what to do") }),
  });
}

export const ALL_ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];
