import { createWebSocketReceiver } from "@statelyai/inspect";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unstable_dev } from "wrangler";
import { freePort, runInspect } from "./inspect-script";

/**
 * Live inspection, end to end: the test Worker runs in workerd under
 * `wrangler dev`, and the client is `@statelyai/inspect`'s own WebSocket
 * receiver, unchanged, as the Stately inspector would attach it.
 */
let worker: Awaited<ReturnType<typeof unstable_dev>>;
const token = "test-token";

beforeAll(async () => {
  process.env.WRANGLER_SEND_METRICS = "false";
  worker = await unstable_dev(new URL("../worker.ts", import.meta.url).pathname, {
    config: new URL("../wrangler.toml", import.meta.url).pathname,
    logLevel: "error",
    experimental: { disableExperimentalWarning: true },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
});

const api = (path: string, init: RequestInit = {}) =>
  worker.fetch(`/api${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers ?? {}) } } as never);

async function waitFor<T>(read: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Gave up waiting for ${what}`);
}

async function approvalWaiting(id: string): Promise<void> {
  expect((await api("/workflows/gated/instances", { method: "POST", body: JSON.stringify({ id, params: { instance: id } }) })).status).toBe(201);
  for (let i = 0; i < 200; i++) {
    const status = (await (await api(`/workflows/gated/instances/${id}`)).json()) as { value: unknown };
    if (status.value === "approval") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${id} never reached approval`);
}

/** A ticket for a path, as a browser would ask for one: a WebSocket cannot send the token as a header. */
async function ticketFor(path: string): Promise<string> {
  const response = await api("/tickets", { method: "POST", body: JSON.stringify({ path }) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { ticket: string }).ticket;
}

const socketPath = (id: string) => `/api/workflows/gated/instances/${id}/inspect`;
const socketUrl = async (id: string) => `ws://${worker.address}:${worker.port}${socketPath(id)}?ticket=${await ticketFor(socketPath(id))}`;

interface Received {
  type: string;
  sessionId: string;
  name?: string;
  definition?: string;
  parentId?: string;
  event?: { type: string; payload?: unknown };
  snapshot?: { status?: string; value?: unknown; output?: unknown };
}

it("sends an instance's current state, then each new record, to @statelyai/inspect's WebSocket receiver", async () => {
  const id = `inspect-${Date.now()}`;
  await approvalWaiting(id);

  const received: Received[] = [];
  const receiver = createWebSocketReceiver({ server: await socketUrl(id) });
  const subscription = receiver.subscribe((event) => void received.push(event as unknown as Received));

  const root = await waitFor(() => received.find((e) => e.type === "@xstate.actor" && e.sessionId === id), "the instance's actor");
  expect(root.name).toBe("gated");
  expect(JSON.parse(root.definition!)).toMatchObject({ id: "gated", initial: "a", states: { approval: { on: { approve: expect.anything() } } } });
  expect(root.snapshot?.value).toBe("approval");

  const seenBefore = received.length;
  expect((await api(`/workflows/gated/instances/${id}/events`, { method: "POST", body: JSON.stringify({ type: "approve", payload: "live" }) })).status).toBe(202);
  const done = await waitFor(() => received.find((e) => e.type === "@xstate.snapshot" && e.sessionId === id && e.snapshot?.status === "done"), "the live completion");
  expect(done.snapshot?.output).toMatchObject({ approval: "live" });
  const live = received.slice(seenBefore);
  expect(live.find((e) => e.type === "@xstate.event")?.event).toEqual({ type: "approve", payload: "live" });
  subscription.unsubscribe();
});

it("pages older events on request, back to the instance's creation", async () => {
  const id = `inspect-pages-${Date.now()}`;
  await approvalWaiting(id);
  const socket = new WebSocket(await socketUrl(id));
  const messages: (Received & { from?: number; before?: number; events?: Received[] })[] = [];
  socket.addEventListener("message", (event) => void messages.push(JSON.parse(String(event.data))));
  const marker = await waitFor(() => messages.find((m) => m.type === "@durable-machines.tail"), "the tail marker");
  const older: Received[] = [];
  for (let before = marker.from!; before > 1; ) {
    const seen = messages.length;
    socket.send(JSON.stringify({ type: "history", before, limit: 5 }));
    const page = await waitFor(() => messages.slice(seen).find((m) => m.type === "@durable-machines.history"), "a page of older events");
    older.unshift(...page.events!);
    before = page.from!;
  }
  expect(older[0]).toMatchObject({ type: "@xstate.actor", sessionId: id, name: "gated" });
  const steps = [...older, ...messages].filter((e) => e.type === "@xstate.actor" && e.parentId === id);
  expect([...new Set(steps.map((e) => e.name))]).toEqual(["a", "b", "c"]);
  socket.close();
});

it("refuses the inspect socket without the token or a ticket, with a wrong one, and with a token in the URL", async () => {
  const statusOf = (query: string) =>
    new Promise<number>((resolve, reject) => {
      const request = httpRequest({
        host: worker.address,
        port: worker.port,
        path: `/api/workflows/gated/instances/anything/inspect${query}`,
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
      });
      request.on("response", (response) => {
        resolve(response.statusCode ?? 0);
        response.resume();
      });
      request.on("upgrade", (response, socket) => {
        socket.destroy();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", reject);
      request.end();
    });
  expect(await statusOf("")).toBe(401);
  expect(await statusOf("?ticket=wrong")).toBe(401);
  expect(await statusOf(`?ticket=${await ticketFor(socketPath("other"))}`)).toBe(401);
  expect(await statusOf(`?token=${token}`)).toBe(400);
  expect(await statusOf(`?ticket=${await ticketFor(socketPath("anything"))}`)).toBe(404);
});

it("npm run inspect relays a live instance, sending the token as a header, and exits when the instance ends", async () => {
  const id = `inspect-relay-${Date.now()}`;
  await approvalWaiting(id);
  const relay = runInspect(["gated", id, "--url", `http://${worker.address}:${worker.port}`, "--token", token, "--port", String(await freePort())]);
  await relay.printed("Relaying");
  expect(relay.output()).toContain("The Stately inspector is an online page, https://stately.ai/inspect");
  expect((await api(`/workflows/gated/instances/${id}/events`, { method: "POST", body: JSON.stringify({ type: "approve", payload: "relayed" }) })).status).toBe(202);
  const { code, out, err } = await relay.exited;
  expect(code, err).toBe(0);
  expect(out).toMatch(new RegExp(`gated/${id} ended \\(done\\); relayed [1-9][0-9]* inspection events`));
});
