import { describe, expect, it } from "vitest";
import type { MemoryHost, WorkflowClient } from "../../../../index";
import type { WorkflowChange } from "../../../../runtime/workflow-watch";
import { serverSentEvents } from "../../server-sent-events";
import { apiHost, AUTH, expectError } from "./api-host";

const changes = "/api/workflows/gate/changes";

/** The changes of a stream's body, parsed, as they come. */
async function* changesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<WorkflowChange> {
  for await (const event of serverSentEvents(body)) yield JSON.parse(event.data) as WorkflowChange;
}

describe("GET /api/workflows/{name}/changes on the memory host", () => {
  it("streams a sync with the counts, then each instance created and each change of status as they happen", async () => {
    const api = apiHost();
    expect((await api.post("/api/workflows/gate/instances", { id: "before" })).status).toBe(201);
    await api.settle();
    const response = await api.send("GET", changes);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const stream = changesOf(response.body!);
    expect((await stream.next()).value).toEqual({ type: "sync", counts: (await api.get("/api/workflows/gate")).body.counts });
    expect((await api.post("/api/workflows/gate/instances", { id: "live" })).status).toBe(201);
    expect((await stream.next()).value).toMatchObject({ type: "created", instance: { id: "live", status: "running" }, counts: { running: 1, waiting: 1 } });
    await api.settle();
    expect((await stream.next()).value).toMatchObject({ type: "updated", instance: { id: "live", status: "waiting" }, counts: { running: 0, waiting: 2 } });
    expect((await api.call("DELETE", "/api/workflows/gate/instances/before")).status).toBe(200);
    expect((await stream.next()).value).toMatchObject({ type: "deleted", id: "before", counts: { waiting: 1 } });
    await stream.return(undefined);
  });

  it("opens with a ticket for its path, answers HEAD with its headers, and disposes of the watch when the client goes", async () => {
    const disposed: string[] = [];
    /** The memory host's client, with each watch's end recorded. */
    const watched = (host: MemoryHost) => ({
      workflow(name: string): WorkflowClient {
        const workflow = host.workflow(name);
        return {
          ...workflow,
          async watch() {
            const watch = await workflow.watch();
            return {
              next: () => watch.next(),
              [Symbol.asyncIterator]: () => watch[Symbol.asyncIterator](),
              [Symbol.dispose]: () => {
                disposed.push(name);
                watch[Symbol.dispose]();
              },
            };
          },
        };
      },
    });
    const api = apiHost({ client: watched });
    const { ticket } = (await api.call("POST", "/api/tickets", { body: { path: changes }, headers: { ...AUTH, "content-type": "application/json" } })).body as { ticket: string };
    const opened = await api.send("GET", `${changes}?ticket=${encodeURIComponent(ticket)}`, { headers: {} });
    expect(opened.status).toBe(200);
    await opened.body!.cancel();
    expect(disposed).toEqual(["gate"]);
    const head = await api.send("HEAD", changes);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(disposed).toEqual(["gate", "gate"]);
    expectError(await api.call("GET", changes, { headers: {} }), 401, "auth.invalid", expect);
    expectError(await api.get("/api/workflows/nope/changes"), 404, "workflow.not_found", expect);
  });
});
