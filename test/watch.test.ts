import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { TooManySubscribersError } from "../index";
import type { RegistryEntry } from "../adapters/durable-object/registry-object";
import { MAX_WATCHES, WATCH_PATH } from "../adapters/durable-object/registry-watches";
import { serverSentEvents } from "../adapters/worker/server-sent-events";
import type { WorkflowChange } from "../runtime/workflow-watch";
import { changeUntil, watchScenario } from "./watch-scenario";
import { until } from "./until";
import { workflows } from "./worker";

const client = () => workflows.client(env);
const worker = (exports as unknown as { default: Fetcher }).default;
const AUTH = { authorization: "Bearer test-token" };

interface Registry {
  update(workflow: string, entry: RegistryEntry): Promise<void>;
  remove(id: string): Promise<void>;
  counts(): Promise<Partial<Record<string, number>>>;
  fetch(request: Request): Promise<Response>;
}
const registryOf = (workflow: string) => env.WORKFLOW_REGISTRY.get(env.WORKFLOW_REGISTRY.idFromName(workflow)) as unknown as Registry & DurableObjectStub;

/** A watch's socket opened on a registry by hand, and every message it has been sent, parsed. */
async function rawWatch(workflow: string) {
  const response = await registryOf(workflow).fetch(new Request(new URL(WATCH_PATH, "https://registry"), { headers: { upgrade: "websocket" } }));
  const socket = response.webSocket!;
  const told: WorkflowChange[] = [];
  socket.addEventListener("message", (event) => {
    told.push(JSON.parse(event.data as string) as WorkflowChange);
  });
  socket.accept();
  return { socket, told };
}

/** The registry's counts as its index holds them, for the table kept beside it to be checked against. */
const countedFromIndex = (workflow: string) =>
  runInDurableObject(registryOf(workflow), (_object, state) =>
    Object.fromEntries(state.storage.sql.exec<{ status: string; n: number }>("SELECT status, COUNT(*) AS n FROM instances GROUP BY status").toArray().map((row) => [row.status, row.n])),
  );

it("watch() tells a sync with the counts, then each instance's creation, its status as it settles and its deletion, with the counts after each", async () => {
  await watchScenario(client().workflow("gate"), "watched");
});

it("the registry tells each change it applies, and none it drops: a stale or repeated report, the removal of an id it does not hold; its counts stay those of its index", async () => {
  const workflow = "watch-reports";
  const registry = registryOf(workflow);
  const { socket, told } = await rawWatch(workflow);
  const entry = (id: string, seq: number, status: RegistryEntry["status"]): RegistryEntry => ({ id, status, createdAt: 100, updatedAt: 100 + seq, seq });
  await registry.update(workflow, entry("a", 2, "running"));
  await registry.update(workflow, entry("b", 2, "running"));
  await registry.update(workflow, entry("a", 5, "waiting"));
  await registry.update(workflow, entry("a", 3, "complete"));
  await registry.update(workflow, entry("a", 5, "waiting"));
  await registry.remove("b");
  await registry.remove("never-there");
  await until(async () => told.length, (n) => n === 5, "the registry's messages");
  expect(told.map((change) => [change.type, change.type === "sync" ? "" : change.type === "deleted" ? change.id : `${change.instance.id}:${change.instance.status}`])).toEqual([
    ["sync", ""],
    ["created", "a:running"],
    ["created", "b:running"],
    ["updated", "a:waiting"],
    ["deleted", "b"],
  ]);
  expect(told.at(-1)!.counts).toMatchObject({ waiting: 1, running: 0 });
  expect(await registry.counts()).toEqual({ waiting: 1 });
  expect(await registry.counts()).toEqual(await countedFromIndex(workflow));
  socket.close(1000, "done");
});

it("a registry stored before its counts table fills it from its index when it wakes", async () => {
  const workflow = "watch-migrated";
  const registry = registryOf(workflow);
  for (const [id, status] of [["x", "waiting"], ["y", "waiting"], ["z", "errored"]] as const) await registry.update(workflow, { id, status, createdAt: 1, updatedAt: 1, seq: 1 });
  await runInDurableObject(registry, (_object, state) => state.storage.sql.exec("DROP TABLE status_counts"));
  await runInDurableObject(registry, (_object, state) => state.abort("reset by the test")).catch(() => undefined);
  expect(await until(() => registryOf(workflow).counts().catch(() => undefined), Boolean, "the registry to come back")).toEqual({ waiting: 2, errored: 1 });
});

it("a watch whose registry was reset opens another socket and tells a sync, then goes on", async () => {
  const gate = client().workflow("gate");
  const watch = await gate.watch();
  const seen: WorkflowChange[] = [];
  await changeUntil(watch, seen, (change) => change.type === "sync");
  await runInDurableObject(registryOf("gate"), (_object, state) => state.abort("reset by the test")).catch(() => undefined);
  expect(await changeUntil(watch, seen, () => true)).toEqual({ type: "sync", counts: await gate.counts() });
  await gate.create({ id: "after-reset" });
  expect(await changeUntil(watch, seen, (change) => change.type === "created")).toMatchObject({ instance: { id: "after-reset" } });
  watch[Symbol.dispose]();
});

it(`a registry keeps at most ${MAX_WATCHES} watches: the next is refused with subscription.too_many`, async () => {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < MAX_WATCHES; i++) sockets.push((await rawWatch("retry-later")).socket);
  const refusal = await client().workflow("retry-later").watch().catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(TooManySubscribersError);
  expect(refusal).toMatchObject({ code: "subscription.too_many" });
  expect((refusal as Error).message).toMatch(/already has 1000 live watches/);
  sockets.pop()!.close(1000, "done");
  const watch = await until(() => client().workflow("retry-later").watch().catch(() => undefined), Boolean, "a watch once a socket closed");
  expect((await watch!.next()).value).toMatchObject({ type: "sync" });
  watch![Symbol.dispose]();
  for (const socket of sockets) socket.close(1000, "done");
});

it("GET /api/workflows/{name}/changes streams the watch as Server-Sent Events, with the token's header or a ticket", async () => {
  const path = "/api/workflows/gate/changes";
  const ticket = (await (await worker.fetch(new Request(`https://example.com/api/tickets`, { method: "POST", headers: { ...AUTH, "content-type": "application/json" }, body: JSON.stringify({ path }) }))).json()) as { ticket: string };
  for (const [how, url, headers] of [
    ["header", `https://example.com${path}`, AUTH],
    ["ticket", `https://example.com${path}?ticket=${ticket.ticket}`, {}],
  ] as const) {
    const response = await worker.fetch(new Request(url, { headers }));
    expect(response.status, how).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = serverSentEvents(response.body!);
    const first = JSON.parse((await events.next()).value!.data) as WorkflowChange;
    expect(first).toEqual({ type: "sync", counts: await client().workflow("gate").counts() });
    const id = `streamed-${how}`;
    await client().workflow("gate").create({ id });
    for (;;) {
      const change = JSON.parse((await events.next()).value!.data) as WorkflowChange;
      if (change.type === "created" && change.instance.id === id) break;
    }
    await events.return(undefined);
    await response.body!.cancel().catch(() => undefined);
  }
  const refused = await worker.fetch(new Request(`https://example.com/api/workflows/nope/changes`, { headers: AUTH }));
  expect(refused.status).toBe(404);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("workflow.not_found");
});
