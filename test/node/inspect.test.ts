import { createWebSocketReceiver } from "@statelyai/inspect";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unstable_dev } from "wrangler";

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

interface Received {
  type: string;
  sessionId: string;
  name?: string;
  definition?: string;
  parentId?: string;
  event?: { type: string; payload?: unknown };
  snapshot?: { status?: string; value?: unknown; output?: unknown };
}

it("streams an instance's history, then each new record, to @statelyai/inspect's WebSocket receiver", async () => {
  const id = `inspect-${Date.now()}`;
  expect((await api("/workflows/gated/instances", { method: "POST", body: JSON.stringify({ id, params: { instance: id } }) })).status).toBe(201);
  for (let i = 0; i < 200; i++) {
    const status = (await (await api(`/workflows/gated/instances/${id}`)).json()) as { value: unknown };
    if (status.value === "approval") break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const received: Received[] = [];
  const receiver = createWebSocketReceiver({ server: `ws://${worker.address}:${worker.port}/api/workflows/gated/instances/${id}/inspect?token=${token}` });
  const subscription = receiver.subscribe((event) => void received.push(event as unknown as Received));

  const root = await waitFor(() => received.find((e) => e.type === "@xstate.actor" && e.sessionId === id), "the instance's actor");
  expect(root.name).toBe("gated");
  expect(JSON.parse(root.definition!)).toMatchObject({ id: "gated", initial: "a", states: { approval: { on: { approve: expect.anything() } } } });
  await waitFor(() => received.find((e) => e.type === "@xstate.snapshot" && e.sessionId === id && e.snapshot?.value === "approval"), "the history up to approval");
  const steps = received.filter((e) => e.type === "@xstate.actor" && e.parentId === id);
  expect(steps.map((e) => e.name)).toEqual(["a", "b", "c"]);

  const seenBefore = received.length;
  expect((await api(`/workflows/gated/instances/${id}/events`, { method: "POST", body: JSON.stringify({ type: "approve", payload: "live" }) })).status).toBe(202);
  const done = await waitFor(() => received.find((e) => e.type === "@xstate.snapshot" && e.sessionId === id && e.snapshot?.status === "done"), "the live completion");
  expect(done.snapshot?.output).toMatchObject({ approval: "live" });
  const live = received.slice(seenBefore);
  expect(live.find((e) => e.type === "@xstate.event")?.event).toEqual({ type: "approve", payload: "live" });
  subscription.unsubscribe();
});

it("refuses the inspect socket without the token, and with a wrong one", async () => {
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
  expect(await statusOf("?token=wrong")).toBe(401);
  expect(await statusOf(`?token=${token}`)).toBe(404);
});
