import { env, exports } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TooManySubscribersError } from "../index";
import { MAX_SUBSCRIBERS, SUBSCRIBER_PATH } from "../adapters/durable-object/subscriber-sockets";
import type { SqlInstanceStore } from "../adapters/durable-object/sql-store";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * Issue 14: subscribe() and the SSE stream polled the instance's log, from
 * every 20 ms to every 500 ms, so a live event came up to half a second
 * after its append. Now the instance's object rings each waiting
 * subscription over a hibernatable socket as it appends
 * (adapters/durable-object/subscriber-sockets.ts), and the subscription reads
 * from its own cursor: while nothing happens it reads nothing, and a socket
 * broken by an eviction or a crash loses and repeats nothing.
 */
const client = () => workflows.client(env);
const worker = (exports as unknown as { default: Fetcher }).default;
const objectOf = (id: string) => client().stub("pinger", id) as unknown as DurableObjectStub;

type Delivered = { type: string; eventId: number; stepName?: string };
type Subscription = { next(): Promise<IteratorResult<Delivered, void>>; [Symbol.dispose](): void };

/** The moves between running and waiting are left out, so that each ping shows as its wait's start and end. */
const WAITS = ["wait_started", "wait_completed", "workflow_completed"] as const;

async function pinger(id: string, n: number) {
  const instance = await client().workflow("pinger").create({ id, params: { n } });
  await until(() => instance.status(), (s) => s.status === "waiting", `${id} to wait for a ping`);
  return instance;
}

async function upTo(subscription: Subscription, type: string): Promise<Delivered[]> {
  const events: Delivered[] = [];
  for (;;) {
    const next = await subscription.next();
    if (next.done) throw new Error(`the subscription ended before ${type}`);
    events.push(next.value);
    if (next.value.type === type) return events;
  }
}

async function all(subscription: Subscription): Promise<Delivered[]> {
  const events: Delivered[] = [];
  for (let next = await subscription.next(); !next.done; next = await subscription.next()) events.push(next.value);
  return events;
}

/** How many subscriptions wait on the instance's object: each holds one socket there while it waits. */
const subscribers = (id: string) => runInDurableObject(objectOf(id), (_object, state) => state.getWebSockets("subscriber").length);

/** Counts from now on the object's reads of its log; the wrapper goes with the object when it is evicted. */
async function countReads(id: string): Promise<{ reads: number }> {
  const counter = { reads: 0 };
  await runInDurableObject(objectOf(id), (object) => {
    const store = (object as unknown as { store: SqlInstanceStore }).store;
    const read = store.read.bind(store);
    store.read = (range) => {
      counter.reads++;
      return read(range);
    };
  });
  return counter;
}

/**
 * What `delivery` settles to, once it settles within `rounds` status() round trips: the object rings a
 * subscriber before it answers the command, so a live event takes one message and one page read.
 */
async function deliveredWithin<T>(delivery: Promise<T>, rounds: number, instance: { status(): Promise<unknown> }): Promise<T> {
  const seen: { settled: boolean; value?: T } = { settled: false };
  void delivery.then((value) => Object.assign(seen, { settled: true, value }));
  for (let i = 0; i < rounds && !seen.settled; i++) await instance.status();
  if (!seen.settled) throw new Error(`nothing was delivered within ${rounds} status() round trips`);
  return seen.value!;
}

describe("subscribe() on the Durable Object host: rung by the append, never polling", () => {
  it("a waiting subscriber reads nothing while nothing happens, then has wait_completed a few round trips after sendEvent", async () => {
    const id = "live-prompt";
    const instance = await pinger(id, 2);
    const subscription = (await instance.subscribe({ filter: [...WAITS] })) as unknown as Subscription;
    await upTo(subscription, "wait_started");
    const next = subscription.next();
    await until(() => subscribers(id), (n) => n === 1, "the subscriber's socket");
    const counter = await countReads(id);
    for (let i = 0; i < 50; i++) await instance.status();
    expect(counter.reads).toBe(0);
    await instance.sendEvent({ type: "ping" });
    expect(await deliveredWithin(next, 10, instance)).toMatchObject({ done: false, value: { type: "wait_completed", stepName: "ping 1-1" } });
    subscription[Symbol.dispose]();
    await until(() => subscribers(id), (n) => n === 0, "the disposed subscription's socket to close");
  });

  it("a burst of events sent at once arrives once each, in order, as a subscription from the start reads it", async () => {
    const id = "live-burst";
    const n = 30;
    const instance = await pinger(id, n);
    const live = all((await instance.subscribe()) as unknown as Subscription);
    await Promise.all(Array.from({ length: n }, () => instance.sendEvent({ type: "ping" })));
    const events = await live;
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "wait_completed").map((e) => e.stepName)).toEqual(Array.from({ length: n }, (_, i) => `ping ${i + 1}-1`));
    expect(events.at(-1)!.type).toBe("workflow_completed");
    expect(await all((await instance.subscribe()) as unknown as Subscription)).toEqual(events);
    expect(await subscribers(id)).toBe(0);
  });

  it.each([
    ["evicted, its sockets hibernated", (id: string) => evictDurableObject(objectOf(id))],
    ["evicted, its sockets closed", (id: string) => evictDurableObject(objectOf(id), { webSockets: "close" })],
    ["aborted, as a crash", (id: string) => runInDurableObject(objectOf(id), (_object, state) => state.abort("crash injected by the test")).catch(() => undefined)],
  ] as const)("the object %s while a subscriber waits: it reads on from its cursor, missing nothing and repeating nothing", async (label, goAway) => {
    const id = `live-${label.split(",")[0]!.split(" ")[0]}-${label.includes("closed") ? "closed" : "kept"}`;
    const instance = await pinger(id, 2);
    const subscription = (await instance.subscribe()) as unknown as Subscription;
    const seen = await upTo(subscription, "workflow_waiting");
    const next = subscription.next();
    await until(() => subscribers(id), (n) => n === 1, "the subscriber's socket");
    await goAway(id);
    await instance.sendEvent({ type: "ping" });
    const woken = await next;
    expect(woken).toMatchObject({ done: false, value: { type: "workflow_running" } });
    await instance.sendEvent({ type: "ping" });
    const events = [...seen, (woken as IteratorYieldResult<Delivered>).value, ...(await all(subscription))];
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "wait_completed").map((e) => e.stepName)).toEqual(["ping 1-1", "ping 2-1"]);
    expect(events.at(-1)!.type).toBe("workflow_completed");
    expect(await all((await instance.subscribe()) as unknown as Subscription)).toEqual(events);
  });

  it(`an object keeps at most ${MAX_SUBSCRIBERS} waiting subscriptions: the next is refused with subscription.too_many, and the instance carries on`, async () => {
    const id = "live-crowded";
    const instance = await pinger(id, 1);
    const url = new URL(SUBSCRIBER_PATH, "https://instance");
    url.searchParams.append("instance", "pinger");
    url.searchParams.append("instance", id);
    const sockets: WebSocket[] = [];
    for (let i = 0; i < MAX_SUBSCRIBERS; i++) {
      const response = await objectOf(id).fetch(url, { headers: { upgrade: "websocket" } });
      response.webSocket!.accept();
      sockets.push(response.webSocket!);
    }
    const log = await instance.history();
    const crowded = (await instance.subscribe({ filter: ["wait_completed"] })) as unknown as Subscription;
    const refusal = await crowded.next().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TooManySubscribersError);
    expect(refusal).toMatchObject({ code: "subscription.too_many" });
    expect((refusal as Error).message).toMatch(/dispose of the subscriptions you no longer read/);
    expect(await instance.history()).toEqual(log);

    sockets.pop()!.close(1000, "done");
    await until(() => subscribers(id), (n) => n < MAX_SUBSCRIBERS, "a socket to close");
    const next = crowded.next();
    await until(() => subscribers(id), (n) => n === MAX_SUBSCRIBERS, "the subscriber's socket");
    await instance.sendEvent({ type: "ping" });
    expect(await next).toMatchObject({ done: false, value: { type: "wait_completed" } });
    for (const socket of sockets) socket.close(1000, "done");
  });
});

describe("the SSE route: each live event sent as it is appended", () => {
  it("a stream waiting on a run reads nothing while nothing happens, then has wait_completed a few round trips after the event is posted", async () => {
    const id = "live-sse";
    const instance = await pinger(id, 1);
    const response = await worker.fetch(new Request(`https://example.com/api/workflows/pinger/instances/${id}/events?filter=wait_started,wait_completed`, { headers: { authorization: "Bearer test-token" } }));
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes('"wait_started"')) text += (await reader.read()).value;
    const chunk = reader.read();
    await until(() => subscribers(id), (n) => n === 1, "the stream's socket");
    const counter = await countReads(id);
    for (let i = 0; i < 50; i++) await instance.status();
    expect(counter.reads).toBe(0);
    const posted = await worker.fetch(
      new Request(`https://example.com/api/workflows/pinger/instances/${id}/events`, { method: "POST", headers: { authorization: "Bearer test-token", "content-type": "application/json" }, body: JSON.stringify({ type: "ping" }) }),
    );
    expect(posted.status).toBe(202);
    expect((await deliveredWithin(chunk, 10, instance)).value).toMatch(/"type":"wait_completed"/);
    await reader.cancel();
    await until(() => subscribers(id), (n) => n === 0, "the cancelled stream's socket to close");
  });
});
