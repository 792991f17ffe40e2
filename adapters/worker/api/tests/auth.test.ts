import { describe, expect, it } from "vitest";
import { apiHost, AUTH, expectError, TOKEN, WORKER_AUTH, WORKER_TOKEN } from "./api-host";

const stream = "/api/workflows/gate/instances/g1/events";

describe("auth: a bearer token on every /api request, failing closed", () => {
  it("refuses a missing header, another scheme, an empty or malformed token and a wrong one, all as 401 auth.invalid", async () => {
    const api = apiHost();
    const refused: Record<string, string>[] = [
      {},
      { authorization: "" },
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: TOKEN },
      { authorization: `Basic ${TOKEN}` },
      { authorization: `Bearer ${TOKEN}-and-more` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: "Bearer wrong token" },
      { authorization: `Bearer ${"x".repeat(10_000)}` },
      { authorization: "Bearer tést" },
    ];
    for (const headers of refused) {
      const reply = await api.call("GET", "/api/workflows", { headers });
      expect(expectError(reply, 401, "auth.invalid", expect)).toContain("Authorization: Bearer");
      expect(reply.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("lets the right token through, the scheme's case not mattering", async () => {
    const api = apiHost();
    expect((await api.call("GET", "/api/workflows", { headers: AUTH })).status).toBe(200);
    expect((await api.call("GET", "/api/workflows", { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
  });

  it("refuses before anything else: unknown paths, wrong methods and bad bodies are 401 too, and nothing is created", async () => {
    const api = apiHost();
    expectError(await api.call("GET", "/api/nothing-here", { headers: {} }), 401, "auth.invalid", expect);
    expectError(await api.call("PUT", "/api/workflows", { headers: {} }), 401, "auth.invalid", expect);
    expectError(await api.call("POST", "/api/workflows/gate/instances", { headers: {}, body: "{" }), 401, "auth.invalid", expect);
    expectError(await api.call("POST", "/api/workflows/gate/instances", { headers: {}, body: { id: "nope" } }), 401, "auth.invalid", expect);
    expect(api.host.storage.all()).toEqual([]);
  });

  it("fails closed with auth.not_configured when no usable token is configured, whatever the request sends", async () => {
    for (const token of [undefined, null, "", 42, "has space", "quote\"", "é"]) {
      const api = apiHost({ token });
      for (const headers of [AUTH, {}, { authorization: "Bearer " }, { authorization: `Bearer ${String(token)}` }]) {
        const message = expectError(await api.call("GET", "/api/workflows", { headers }), 401, "auth.not_configured", expect);
        expect(message).toContain("API_TOKEN");
        expect(message).toContain("wrangler secret put API_TOKEN");
      }
      expectError(await api.call("GET", `${stream}?token=${encodeURIComponent(String(token))}`, { headers: {} }), 401, "auth.not_configured", expect);
    }
  });

  it("refuses a token in the query with auth.token_in_query, on every route and method, whatever else is sent, and changes no log", async () => {
    const api = apiHost({ inspect: async () => new Response(null, { status: 200 }) });
    expect((await api.post("/api/workflows/gate/instances", { id: "g1" })).status).toBe(201);
    await api.settle();
    const before = api.logs();
    const attempts: [string, string, Record<string, string>][] = [
      ["GET", `${stream}?token=${TOKEN}`, {}],
      ["HEAD", `${stream}?token=${TOKEN}`, {}],
      ["GET", `/api/workflows/gate/instances/g1/inspect?token=${TOKEN}`, { upgrade: "websocket" }],
      ["GET", `${stream}?token=wrong`, {}],
      ["GET", `${stream}?token=`, {}],
      ["GET", `/api/workflows?token=${TOKEN}`, {}],
      // A right header does not make a token in the URL acceptable: the URL has leaked it already.
      ["GET", `/api/workflows?token=${TOKEN}`, AUTH],
      ["POST", `${stream}?token=${TOKEN}`, { ...AUTH, "content-type": "application/json" }],
    ];
    for (const [method, path, headers] of attempts) {
      const reply = await api.call(method, path, { headers, ...(method === "POST" ? { body: { type: "approve" } } : {}) });
      if (method === "HEAD") {
        expect(reply.status).toBe(400);
        continue;
      }
      const message = expectError(reply, 400, "auth.token_in_query", expect);
      expect(message).toContain("Authorization: Bearer <API_TOKEN>");
      expect(message).toContain("POST /api/tickets");
      expect(message).toContain("?ticket=");
    }
    expect(api.logs()).toBe(before);
  });
});

describe("auth: the Python worker routes take PYTHON_WORKER_TOKEN, and only they do", () => {
  const claim = "/api/python/v1/workflows/pipeline/claim";
  const claimBody = { protocol: 1, worker: "w" };
  const heartbeat = "/api/python/v1/workflows/pipeline/instances/p1/heartbeat";

  /** A host with one Python instance that wants a worker, unclaimed. */
  async function wanting() {
    const api = apiHost();
    expect((await api.post("/api/workflows/pipeline/instances", { id: "p1" })).status).toBe(201);
    await api.settle();
    return api;
  }

  it("refuses API_TOKEN, a wrong token, another scheme or none on the worker routes: nothing is claimed, renewed or recorded", async () => {
    const api = await wanting();
    const before = api.logs();
    const refused: Record<string, string>[] = [{}, AUTH, { authorization: `bearer ${TOKEN}` }, { authorization: `Basic ${WORKER_TOKEN}` }, { authorization: `Bearer ${WORKER_TOKEN}x` }, { authorization: "Bearer " }];
    for (const headers of refused) {
      expect(expectError(await api.call("POST", claim, { headers, body: claimBody }), 401, "auth.invalid", expect)).toContain("Authorization: Bearer <PYTHON_WORKER_TOKEN>");
      expectError(await api.call("POST", heartbeat, { headers, body: { protocol: 1, lease: "x" } }), 401, "auth.invalid", expect);
    }
    // Nor as a query token, which no route takes.
    const inQuery = expectError(await api.call("POST", `${claim}?token=${WORKER_TOKEN}`, { headers: {}, body: claimBody }), 400, "auth.token_in_query", expect);
    expect(inQuery).toContain("Authorization: Bearer <PYTHON_WORKER_TOKEN>");
    expect(inQuery).not.toContain("ticket");
    expect(api.logs()).toBe(before);
    const claimed = await api.call("POST", claim, { headers: WORKER_AUTH, body: claimBody });
    expect(claimed.status, "the refused claims took nothing").toBe(200);
    expect(claimed.body.task.instanceId).toBe("p1");
  });

  it("does not open the rest of the API with PYTHON_WORKER_TOKEN", async () => {
    const api = await wanting();
    const before = api.logs();
    expect(expectError(await api.call("GET", "/api/workflows", { headers: WORKER_AUTH }), 401, "auth.invalid", expect)).toContain("<API_TOKEN>");
    expectError(await api.call("POST", "/api/workflows/pipeline/instances/p1/terminate", { headers: WORKER_AUTH, body: {} }), 401, "auth.invalid", expect);
    expectError(await api.call("GET", `/api/workflows/pipeline/instances/p1/events?token=${WORKER_TOKEN}`, { headers: {} }), 400, "auth.token_in_query", expect);
    expect(api.logs()).toBe(before);
  });

  it("fails closed with auth.not_configured, saying how to set PYTHON_WORKER_TOKEN, when none is usable or it is API_TOKEN", async () => {
    for (const workerToken of [undefined, "", 7, "has space", TOKEN]) {
      const api = apiHost({ workerToken });
      expect((await api.post("/api/workflows/pipeline/instances", { id: "p1" })).status).toBe(201);
      await api.settle();
      const before = api.logs();
      for (const headers of [WORKER_AUTH, AUTH, {}]) {
        const message = expectError(await api.call("POST", claim, { headers, body: claimBody }), 401, "auth.not_configured", expect);
        expect(message).toContain("wrangler secret put PYTHON_WORKER_TOKEN");
        if (workerToken === undefined || workerToken === "" || workerToken === 7) expect(message).toContain("--var PYTHON_WORKER_TOKEN:<token>");
        if (workerToken === TOKEN) expect(message).toContain("the same as API_TOKEN");
      }
      expect(api.logs()).toBe(before);
      // The rest of the API is open as before.
      expect((await api.get("/api/workflows")).status).toBe(200);
    }
  });

  it("leaves /api/python/ to the API token where the host serves no Python: no such routes", async () => {
    const api = apiHost({ withoutPython: true });
    expectError(await api.call("POST", claim, { headers: AUTH, body: claimBody }), 404, "route.not_found", expect);
    expectError(await api.call("POST", claim, { headers: WORKER_AUTH, body: claimBody }), 401, "auth.invalid", expect);
  });
});
