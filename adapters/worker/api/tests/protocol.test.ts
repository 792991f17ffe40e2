import { describe, expect, it } from "vitest";
import type { MemoryHost, WorkflowClient } from "../../../../index";
import { apiHost, expectError } from "./api-host";

const instance = "/api/workflows/gate/instances/g1";

async function withInstance() {
  const api = apiHost();
  expect((await api.post("/api/workflows/gate/instances", { id: "g1" })).status).toBe(201);
  await api.settle();
  return api;
}

describe("routing: 404 for unknown paths, 405 with Allow for a known path and another method, HEAD wherever GET is", () => {
  it("answers an unknown path with 404 route.not_found, as JSON", async () => {
    const api = apiHost();
    for (const path of ["/api", "/api/", "/api/nothing-here", "/api/workflows/gate/nothing", `${instance}/cancel`, `${instance}/events/more`, "/api/workflows/gate/instances/g1/", "/elsewhere"]) {
      expectError(await api.get(path), 404, "route.not_found", expect);
    }
    expect(expectError(await api.get(`/api/${"p".repeat(10_000)}`), 404, "route.not_found", expect).length).toBeLessThan(400);
  });

  it("answers a known path with another method with 405 method.not_allowed and the methods it takes in Allow", async () => {
    const api = await withInstance();
    const before = api.logs();
    const cases: [method: string, path: string, allow: string[]][] = [
      ["PUT", "/api/workflows", ["GET", "HEAD"]],
      ["POST", "/api/workflows/gate", ["GET", "HEAD"]],
      ["PATCH", "/api/workflows/gate/instances", ["GET", "HEAD", "POST", "DELETE"]],
      ["PUT", instance, ["GET", "HEAD", "DELETE"]],
      ["DELETE", `${instance}/events`, ["POST", "GET", "HEAD"]],
      ["GET", `${instance}/pause`, ["POST"]],
      ["HEAD", `${instance}/resume`, ["POST"]],
      ["GET", "/api/workflows/gate/instances/batch/delete", ["POST"]],
      ["OPTIONS", `${instance}/history`, ["GET", "HEAD"]],
      ["POST", "/api/openapi.json", ["GET", "HEAD"]],
    ];
    for (const [method, path, allow] of cases) {
      const reply = await api.call(method, path, { body: method === "GET" || method === "HEAD" ? undefined : "{}" });
      expect(reply.status, `${method} ${path}`).toBe(405);
      expect(reply.headers.get("allow")?.split(", ").sort()).toEqual([...allow].sort());
      if (method === "HEAD") expect(reply.text).toBe("");
      else expectError(reply, 405, "method.not_allowed", expect);
    }
    expect(api.logs()).toBe(before);
  });

  it("answers HEAD wherever GET is: GET's status and headers, no body", async () => {
    const api = await withInstance();
    for (const path of ["/api/workflows", "/api/workflows/gate", "/api/workflows/gate/instances?limit=5", instance, `${instance}/history`, `${instance}/steps`, "/api/openapi.json", "/api/workflows/nope", `${instance}?x=1`]) {
      const get = await api.get(path);
      const head = await api.call("HEAD", path);
      expect(head.status, path).toBe(get.status);
      expect(head.text, path).toBe("");
      expect(head.headers.get("content-type"), path).toBe(get.headers.get("content-type"));
    }
  });

  it("answers HEAD of the live event stream with its headers, and ends the subscription it would have streamed", async () => {
    const disposed: string[] = [];
    /** The memory host's client, with each subscription's end recorded. */
    const watched = (host: MemoryHost) => ({
      workflow(name: string): WorkflowClient {
        const workflow = host.workflow(name);
        return {
          ...workflow,
          async get(id) {
            const handle = await workflow.get(id);
            return {
              ...handle,
              async subscribe(options) {
                const subscription = await handle.subscribe(options);
                return { next: () => subscription.next(), [Symbol.dispose]: () => (disposed.push(id), subscription[Symbol.dispose]()) };
              },
            };
          },
        };
      },
    });
    const api = apiHost({ client: watched });
    expect((await api.post("/api/workflows/gate/instances", { id: "g1" })).status).toBe(201);
    await api.settle();
    const head = await api.send("HEAD", `${instance}/events`);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(await head.text()).toBe("");
    expect(new Set(disposed)).toEqual(new Set(["g1"]));
  });
});
