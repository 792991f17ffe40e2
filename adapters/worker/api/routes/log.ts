import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { redacted } from "../../../../core/records";
import { MAX_LIST_LIMIT } from "../../../../runtime/client";
import { readStepHistory, stepHistoryPage } from "../../../../runtime/read-step-history";
import { eventStream, streamOptions } from "../../event-stream";
import type { ApiHost } from "../app";
import { endpoint, type Endpoint } from "../endpoint";
import { ApiError, type ErrorCode } from "../error-codes";
import { HistoryAnswer, HistoryQuery, InspectQuery, InstancePath, StepsAnswer, StepsQuery, StreamQuery } from "../schemas";

const ADDRESSED: readonly ErrorCode[] = ["workflow.not_found", "instance.invalid_id", "instance.not_found", "definition.mismatch"];

/** An instance's log, read: a page of records, the step history, the live event stream, the inspection socket. */
export function logEndpoints(host: ApiHost): Endpoint[] {
  const instanceOf = (c: Context, { name, id }: { name: string; id: string }) => host.client(c.env).workflow(name).get(id);
  const endpoints = [
    endpoint({
      method: "get",
      path: "/api/workflows/{name}/instances/{id}/history",
      summary: "A page of the instance's log, oldest first, from seq `after`; sensitive values [REDACTED]",
      params: InstancePath,
      query: HistoryQuery,
      answers: { 200: { description: "the records; `next` when more follow", schema: HistoryAnswer } },
      errors: [...ADDRESSED, "history.invalid_range"],
      handle: async (c, { params, query: { after, limit } }) => {
        const page = await (await instanceOf(c, params)).historyPage({ ...(after === undefined ? {} : { after }), ...(limit === undefined ? {} : { limit }) });
        return c.json({ records: page.records.map(redacted), ...(page.next === undefined ? {} : { next: page.next }) });
      },
    }),
    endpoint({
      method: "get",
      path: "/api/workflows/{name}/instances/{id}/steps",
      summary: "A page of the step history of the current run, in the order the steps first started, as Cloudflare's local explorer lists it; sensitive outputs [REDACTED]",
      params: InstancePath,
      query: StepsQuery,
      answers: { 200: { description: "the steps; `next` when more follow", schema: StepsAnswer } },
      errors: ADDRESSED,
      handle: async (c, { params: { name, id }, query: { after = 0, limit = MAX_LIST_LIMIT } }) => {
        const instance = await instanceOf(c, { name, id });
        return c.json(stepHistoryPage(await readStepHistory(instance, (hash) => host.catalog.pinned(name, id, hash)), after, limit));
      },
    }),
    endpoint({
      method: "get",
      path: "/api/workflows/{name}/instances/{id}/events",
      summary: "subscribe() as Server-Sent Events: `id:` the eventId, `data:` the event as JSON, live until the run's terminal event",
      params: InstancePath,
      query: StreamQuery,
      ticket: true,
      answers: {
        200: { description: "the event stream; `Last-Event-ID` or `?cursor=` resumes after an eventId", schema: z.string(), contentType: "text/event-stream" },
        204: { description: "the instance is finished and nothing follows the cursor" },
      },
      errors: [...ADDRESSED, "subscription.invalid"],
      handle: async (c, { params }) => {
        const response = await eventStream(await instanceOf(c, params), streamOptions(c.req.raw, new URL(c.req.url)));
        if (c.req.method !== "HEAD") return response;
        // HEAD answers GET's status and headers; the stream it would have sent is cancelled, which ends the subscription.
        await response.body?.cancel();
        return new Response(null, response);
      },
    }),
  ];
  if (!host.inspect) return endpoints;
  const inspect = host.inspect;
  return [
    ...endpoints,
    endpoint({
      method: "get",
      path: "/api/workflows/{name}/instances/{id}/inspect",
      summary: "The live inspection socket: the instance as @statelyai/inspect events over a WebSocket",
      params: InstancePath,
      query: InspectQuery,
      ticket: true,
      answers: { 101: { description: "the WebSocket: the history first, then each record as it is appended" } },
      errors: [...ADDRESSED, "request.not_websocket"],
      handle: async (c, { params }) => {
        if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new ApiError("request.not_websocket", "Open the inspect endpoint as a WebSocket (Upgrade: websocket).");
        await instanceOf(c, params);
        return inspect(c.env, params.name, params.id, c.req.raw);
      },
    }),
  ];
}
