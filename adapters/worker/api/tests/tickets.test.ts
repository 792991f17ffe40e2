import { describe, expect, it } from "vitest";
import { issueTicket, TICKET_LIFETIME_MS } from "../tickets";
import { apiHost, AUTH, expectError, TOKEN, WORKER_AUTH } from "./api-host";

const stream = (id: string) => `/api/workflows/gate/instances/${id}/events`;
const socket = (id: string) => `/api/workflows/gate/instances/${id}/inspect`;

/** A host with gate instances g1 and g2 waiting, whose inspect route records what it opened. */
async function twoGates() {
  const inspected: string[] = [];
  const api = apiHost({ inspect: async (_env, workflow, id) => (inspected.push(`${workflow}/${id}`), new Response(null, { status: 200 })) });
  for (const id of ["g1", "g2"]) expect((await api.post("/api/workflows/gate/instances", { id })).status).toBe(201);
  await api.settle();
  const ticketFor = async (path: string) => {
    const reply = await api.call("POST", "/api/tickets", { body: { path }, headers: { ...AUTH, "content-type": "application/json" } });
    expect(reply.status, reply.text).toBe(201);
    expect(Object.keys(reply.body).sort()).toEqual(["expiresAt", "ticket"]);
    return reply.body as { ticket: string; expiresAt: number };
  };
  /** The status of a GET (or `method`) of `path` with `?ticket=` and no header; an event stream is cancelled unread. */
  const open = async (path: string, ticket: string, { method = "GET", headers = {} as Record<string, string> } = {}) => {
    const response = await api.send(method, `${path}?ticket=${encodeURIComponent(ticket)}`, { headers: path.endsWith("/inspect") ? { upgrade: "websocket", ...headers } : headers });
    const type = response.headers.get("content-type") ?? "";
    const body = type.startsWith("application/json") ? ((await response.json()) as { error: { code: string; message: string } }) : (await response.body?.cancel(), undefined);
    return { status: response.status, code: body?.error.code, message: body?.error.message };
  };
  return { api, inspected, ticketFor, open };
}

describe("tickets: POST /api/tickets, and the event stream and inspection socket opened by one", () => {
  it("issues a ticket only to a holder of the API token, sent as a header", async () => {
    const { api, ticketFor } = await twoGates();
    const body = { path: stream("g1") };
    for (const headers of [{}, { authorization: "Bearer wrong" }, WORKER_AUTH]) {
      expectError(await api.call("POST", "/api/tickets", { body, headers: { ...headers, "content-type": "application/json" } }), 401, "auth.invalid", expect);
    }
    expectError(await api.call("POST", `/api/tickets?token=${TOKEN}`, { body, headers: { "content-type": "application/json" } }), 400, "auth.token_in_query", expect);
    // A ticket does not issue tickets: it opens GET of its own path, and /api/tickets is not one.
    const { ticket } = await ticketFor(stream("g1"));
    expectError(await api.call("POST", `/api/tickets?ticket=${ticket}`, { body, headers: { "content-type": "application/json" } }), 401, "auth.invalid", expect);
  });

  it("answers 201 with a ticket that expires a minute from now on the host's clock", async () => {
    const { api, ticketFor } = await twoGates();
    const { ticket, expiresAt } = await ticketFor(socket("g1"));
    expect(expiresAt).toBe(api.clock.now() + TICKET_LIFETIME_MS);
    expect(ticket).toMatch(/^[0-9]+\.[A-Za-z0-9_-]{43}$/);
    expect(ticket).not.toContain(TOKEN);
  });

  it("opens its own path, by GET and HEAD, as often as asked until it expires: the event stream and the inspection socket", async () => {
    const { inspected, ticketFor, open } = await twoGates();
    const events = (await ticketFor(stream("g1"))).ticket;
    expect((await open(stream("g1"), events)).status).toBe(200);
    expect((await open(stream("g1"), events)).status, "a ticket is not single-use: a socket that reconnects uses it again").toBe(200);
    expect((await open(stream("g1"), events, { method: "HEAD" })).status).toBe(200);
    const inspect = (await ticketFor(socket("g2"))).ticket;
    expect((await open(socket("g2"), inspect)).status).toBe(200);
    expect(inspected).toEqual(["gate/g2"]);
  });

  it("opens nothing else: another instance, the other route, another method, a route that takes no ticket", async () => {
    const { api, inspected, ticketFor, open } = await twoGates();
    const { ticket } = await ticketFor(stream("g1"));
    const before = api.logs();
    for (const [path, method] of [
      [stream("g2"), "GET"],
      [socket("g1"), "GET"],
      ["/api/workflows/gate/instances/g1", "GET"],
      ["/api/workflows/gate/instances/g1/history", "GET"],
      ["/api/workflows", "GET"],
      [stream("g1"), "POST"],
      ["/api/workflows/gate/instances/g1/terminate", "POST"],
    ] as const) {
      const refused = await open(path, ticket, { method });
      expect([refused.status, refused.code], `${method} ${path}`).toEqual([401, "auth.invalid"]);
    }
    expect(inspected).toEqual([]);
    expect(api.logs()).toBe(before);
  });

  it("stops opening its path once it expires, a minute after it was issued", async () => {
    const { api, ticketFor, open } = await twoGates();
    const { ticket } = await ticketFor(stream("g1"));
    api.clock.advance(TICKET_LIFETIME_MS - 1);
    expect((await open(stream("g1"), ticket)).status).toBe(200);
    api.clock.advance(1);
    const expired = await open(stream("g1"), ticket);
    expect([expired.status, expired.code]).toEqual([401, "auth.invalid"]);
    expect(expired.message).toContain("expired");
    expect(expired.message).toContain("POST /api/tickets");
  });

  it("refuses a forged or altered ticket: a later expiry, a changed MAC, another token's, another path's, not a ticket", async () => {
    const { api, ticketFor, open } = await twoGates();
    const { ticket, expiresAt } = await ticketFor(stream("g1"));
    const [, mac] = ticket.split(".") as [string, string];
    const flipped = `${mac.slice(0, 10)}${mac[10] === "A" ? "B" : "A"}${mac.slice(11)}`;
    const before = api.logs();
    const forged = [
      `${expiresAt + 60_000}.${mac}`,
      `${expiresAt}.${flipped}`,
      `${expiresAt}.${mac}=`,
      `${expiresAt}.${mac.slice(0, -1)}`,
      `0${expiresAt}.${mac}`,
      await issueTicket("another-token", stream("g1"), expiresAt),
      await issueTicket(TOKEN, stream("g2"), expiresAt),
      await issueTicket(TOKEN, `${stream("g1")}/`, expiresAt),
      TOKEN,
      "",
      ".",
      `${expiresAt}.`,
      "x".repeat(300),
    ];
    for (const attempt of forged) {
      const refused = await open(stream("g1"), attempt);
      expect([refused.status, refused.code], attempt).toEqual(refused.status === 400 ? [400, "request.invalid_query"] : [401, "auth.invalid"]);
    }
    expect(api.logs()).toBe(before);
    // The forgeries were refused for what they were: the real ticket still opens the path.
    expect((await open(stream("g1"), ticket)).status).toBe(200);
  });

  it("lets a header, when sent, decide: a wrong one is not rescued by a right ticket", async () => {
    const { ticketFor, open } = await twoGates();
    const { ticket } = await ticketFor(stream("g1"));
    const refused = await open(stream("g1"), ticket, { headers: { authorization: "Bearer wrong" } });
    expect([refused.status, refused.code]).toEqual([401, "auth.invalid"]);
  });

  it("issues tickets only for the paths that take one, given alone", async () => {
    const { api } = await twoGates();
    const ask = (body: unknown) => api.call("POST", "/api/tickets", { body, headers: { ...AUTH, "content-type": "application/json" } });
    for (const path of [
      "/api/workflows",
      "/api/workflows/gate/instances/g1",
      "/api/tickets",
      `${stream("g1")}?cursor=3`,
      `${stream("g1")}#x`,
      "api/workflows/gate/instances/g1/events",
      `//evil.example${stream("g1")}`,
      `https://evil.example${stream("g1")}`,
    ]) {
      expect(expectError(await ask({ path }), 400, "request.invalid", expect), path).toContain("/inspect");
    }
    for (const body of [{}, { path: "" }, { path: 7 }, { path: stream("g1"), extra: 1 }, { path: "x".repeat(3000) }]) {
      expectError(await ask(body), 400, "request.invalid", expect);
    }
  });
});
