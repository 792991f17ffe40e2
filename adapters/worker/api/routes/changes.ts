import { z } from "@hono/zod-openapi";
import { changeStream } from "../../change-stream";
import type { ApiHost } from "../app";
import { endpoint, type Endpoint } from "../endpoint";
import { ChangesQuery, WorkflowPath } from "../schemas";

/** GET /api/workflows/{name}/changes: the workflow's watch (WorkflowClient.watch) as Server-Sent Events, what the dashboard's list and counts follow. */
export function changesEndpoint(host: ApiHost): Endpoint {
  return endpoint({
    method: "get",
    path: "/api/workflows/{name}/changes",
    summary:
      "The workflow's instances, live, as Server-Sent Events: each `data:` a JSON change, first `sync` { counts } (read the list now), then `created` and `updated` { instance, counts } and `deleted` { id, counts } as they happen; a reconnect gets a new `sync`",
    params: WorkflowPath,
    query: ChangesQuery,
    ticket: true,
    answers: { 200: { description: "the change stream, open until the client closes it", schema: z.string(), contentType: "text/event-stream" } },
    errors: ["workflow.not_found", "subscription.too_many"],
    handle: async (c, { params: { name } }) => {
      const response = changeStream(await host.client(c.env).workflow(name).watch());
      if (c.req.method !== "HEAD") return response;
      // HEAD answers GET's status and headers; the stream it would have sent is cancelled, which disposes of the watch.
      await response.body?.cancel();
      return new Response(null, response);
    },
  });
}
