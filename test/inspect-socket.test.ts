import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { inspectionEvents, type InspectionEvent } from "../core/inspection";
import { utf8Length } from "../core/json";
import type { LogRecord } from "../core/records";
import { logPages } from "../runtime/history-pages";
import { INSPECT_PAGE_BYTES, INSPECT_TAIL_RECORDS } from "../runtime/inspection-pages";
import { ticker } from "./ticker";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * The inspect socket in workerd: it starts from the newest snapshot and the
 * tail instead of the whole history, pages older events on request, and
 * carries on live.
 */
const worker = (exports as unknown as { default: Fetcher }).default;
const client = () => workflows.client(env);
const STEPS = 300;

interface Message {
  type: string;
  seq?: number;
  from?: number;
  before?: number;
  events?: InspectionEvent[];
  sessionId?: string;
  snapshot?: { status?: string; value?: unknown; context?: unknown };
  code?: string;
}

/** A ticket for the inspect socket's path, as the dashboard asks for one: a browser's WebSocket cannot send the token as a header. */
async function ticketFor(path: string): Promise<string> {
  const response = await worker.fetch(
    new Request("https://example.com/api/tickets", { method: "POST", headers: { authorization: "Bearer test-token", "content-type": "application/json" }, body: JSON.stringify({ path }) }),
  );
  expect(response.status).toBe(201);
  return ((await response.json()) as { ticket: string }).ticket;
}

async function connect(id: string) {
  const path = `/api/workflows/ticker/instances/${id}/inspect`;
  const response = await worker.fetch(new Request(`https://example.com${path}?ticket=${await ticketFor(path)}`, { headers: { upgrade: "websocket" } }));
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  const received: { text: string; message: Message }[] = [];
  socket.addEventListener("message", (event) => void received.push({ text: event.data as string, message: JSON.parse(event.data as string) as Message }));
  socket.accept();
  /** Sends a request and waits for the answer of `type`: what came before it has all arrived. */
  const ask = async (request: unknown, type: string) => {
    const seen = received.length;
    socket.send(typeof request === "string" ? request : JSON.stringify(request));
    return (await until(async () => received.slice(seen).find((r) => r.message.type === type), Boolean, `an answer of ${type}`))!.message;
  };
  return { socket, received, ask };
}

async function wholeLog(instance: Parameters<typeof logPages>[0]): Promise<LogRecord[]> {
  const log: LogRecord[] = [];
  for await (const page of logPages(instance)) log.push(...page);
  return log;
}

it("on connect sends the current snapshot and the newest events, pages older events on request, then follows live records", async () => {
  const id = "socket-ticker";
  const instance = await client().workflow("ticker").create({ id, params: { n: STEPS } });
  await until(() => instance.status(), (s) => s.value === "waiting", "all the steps");
  const log = await wholeLog(instance);
  const whole = inspectionEvents(ticker, log);

  const { socket, received, ask } = await connect(id);
  await ask({ type: "history", before: 1 }, "@durable-machines.history");
  const opening = received.slice(0, -1);
  const [marker, root, ...tail] = opening.map((r) => r.message);
  expect(marker).toEqual({ type: "@durable-machines.tail", seq: log.length, from: expect.any(Number) });
  expect(marker!.from).toBeGreaterThan(log.length - INSPECT_TAIL_RECORDS);
  expect(root).toMatchObject({ type: "@xstate.actor", sessionId: id, snapshot: { value: "waiting", context: { i: STEPS, n: STEPS } } });
  expect(opening.reduce((sum, r) => sum + utf8Length(r.text), 0)).toBeLessThan(INSPECT_PAGE_BYTES);

  const older: InspectionEvent[] = [];
  for (let before = marker!.from!; before > 1; ) {
    const page = await ask({ type: "history", before, limit: 1000 }, "@durable-machines.history");
    expect(page.before).toBe(before);
    older.unshift(...page.events!);
    before = page.from!;
  }
  expect([...older, ...tail]).toEqual(whole);

  const refused = await ask("{ nope", "@durable-machines.error");
  expect(refused.code).toBe("inspect.invalid_request");

  await instance.sendEvent({ type: "go" });
  const done = await until(async () => received.find((r) => r.message.type === "@xstate.snapshot" && r.message.snapshot?.status === "done"), Boolean, "the live completion");
  expect(done!.message.snapshot!.value).toBe("done");
  socket.close(1000, "done");
});

it("opens by the header or a ticket for its own path, never by another instance's ticket or a token in the URL", async () => {
  const id = "socket-ticketed";
  const instance = await client().workflow("ticker").create({ id, params: { n: 1 } });
  await until(() => instance.status(), (s) => s.value === "waiting", "the step");
  const path = `/api/workflows/ticker/instances/${id}/inspect`;
  const open = async (query: string, headers: Record<string, string> = {}) => {
    const response = await worker.fetch(new Request(`https://example.com${path}${query}`, { headers: { upgrade: "websocket", ...headers } }));
    if (response.webSocket) {
      response.webSocket.accept();
      response.webSocket.close();
    }
    return response.status === 101 ? { status: 101 } : { status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code };
  };
  expect(await open("", { authorization: "Bearer test-token" })).toEqual({ status: 101 });
  expect(await open(`?ticket=${await ticketFor(path)}`)).toEqual({ status: 101 });
  expect(await open(`?ticket=${await ticketFor("/api/workflows/ticker/instances/socket-ticker/inspect")}`)).toEqual({ status: 401, code: "auth.invalid" });
  expect(await open("")).toEqual({ status: 401, code: "auth.invalid" });
  expect(await open("?token=test-token")).toEqual({ status: 400, code: "auth.token_in_query" });
});
