/**
 * `npm run inspect -- <workflow> <instance id>`: shows one running instance
 * in the Stately inspector, which is an online page (https://stately.ai/inspect):
 * the browser loads it from stately.ai, and this script feeds it through
 * @statelyai/inspect's local inspector server. It checks the instance first
 * (saying in one line why it cannot reach it), connects to the instance's
 * inspect socket with the token as a header, asks for the older events a page
 * at a time back to the instance's creation, relays the whole history in
 * order, then each live event, and exits when the instance ends. The
 * dashboard, served by the Worker at /, is the offline inspector. Options:
 * --url (default http://localhost:8787), --token (default the API_TOKEN env
 * var, else local-dev-token), --port (default 8080), --no-open (do not open a
 * browser). The socket protocol is in docs/inspection.md.
 */
import { createWebSocketInspector } from "@statelyai/inspect";
import { createInspectorServer } from "@statelyai/inspect/server";
import { createServer } from "node:net";
import { parseArgs } from "node:util";

const STATELY_INSPECTOR = "https://stately.ai/inspect";
const FINISHED = new Set(["complete", "errored", "terminated"]);
/** The root actor's snapshot statuses once the instance has ended (core/inspection.ts). */
const ENDED = new Set(["done", "error", "stopped"]);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  allowNegative: true,
  options: {
    url: { type: "string", default: "http://localhost:8787" },
    token: { type: "string" },
    port: { type: "string", default: "8080" },
    open: { type: "boolean", default: true },
  },
});
const [workflow, id] = positionals;
if (!workflow || !id) {
  console.error("usage: npm run inspect -- <workflow> <instance id> [--url http://localhost:8787] [--token …] [--port 8080] [--no-open]");
  process.exit(2);
}
const fail = (line: string): never => {
  console.error(line);
  process.exit(1);
};
const token = values.token ?? process.env.API_TOKEN ?? "local-dev-token";
const port = Number(values.port);
const instancePath = `/api/workflows/${encodeURIComponent(workflow)}/instances/${encodeURIComponent(id)}`;
const dashboard = new URL("/", values.url).href;

/** The instance's status, or the one line that says why it cannot be read. */
async function instanceStatus(): Promise<string> {
  const url = new URL(instancePath, values.url);
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    return fail(`Cannot connect to ${values.url} (${(error as { cause?: { code?: string } }).cause?.code ?? String(error)}): start the Worker (npm start) or pass --url.`);
  }
  const body = (await response.json().catch(() => undefined)) as { status?: string; error?: { code: string; message: string } } | undefined;
  const refusal = body?.error ? `${response.status} ${body.error.code}: ${body.error.message}` : `${response.status} ${response.statusText}`;
  if (response.status === 401) fail(`${values.url} refused the token (${refusal}) Pass --token or set API_TOKEN to the Worker's API_TOKEN (local-dev-token under npm start).`);
  if (response.status === 404) fail(`${values.url} has no instance ${id} of workflow ${workflow} (${refusal}) Check the names with: npx durable-machines list ${workflow}`);
  if (!response.ok || typeof body?.status !== "string") fail(`${values.url} did not answer with the instance (${refusal}).`);
  return body!.status!;
}

/** Whether nothing listens on the port the inspector server is to take. */
const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });

const status = await instanceStatus();
if (FINISHED.has(status)) fail(`${workflow}/${id} has already ended (${status}): there is nothing live to relay. The dashboard shows its whole history: ${dashboard}`);
if (!(await portFree(port))) fail(`Port ${port} is taken, so the inspector server cannot start there: pass --port.`);
console.log(`The Stately inspector is an online page, ${STATELY_INSPECTOR}: your browser loads it from stately.ai, and this relay on ws://localhost:${port} feeds it.`);
console.log(`For an offline view, open the dashboard the Worker serves: ${dashboard}`);

interface Message {
  type: string;
  id?: string;
  sessionId?: string;
  from?: number;
  events?: Message[];
  message?: string;
  snapshot?: { status?: string };
}

const server = createInspectorServer({ port, autoOpen: values.open });
const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
let relayed = 0;
/** The status the instance ended with, once an event says so. */
let ended: string | undefined;
const relay = (event: Message) => {
  inspector.adapter.send(event as never);
  relayed++;
  if (event.sessionId === id && event.snapshot?.status && ENDED.has(event.snapshot.status)) ended = event.snapshot.status;
};

const source = new URL(instancePath + "/inspect", values.url);
source.protocol = source.protocol === "https:" ? "wss:" : "ws:";
// Node's WebSocket (undici's) sends headers given in its options, so the token stays out of the URL.
const socket = new WebSocket(source, { headers: { authorization: `Bearer ${token}` } } as never);
const progress = setInterval(() => process.stdout.write(`\rrelayed ${relayed} inspection events from ${workflow}/${id}`), 1000);

/**
 * Stops relaying: every handle closes, so the process exits once what was sent has gone out, or after a second if a
 * browser still holds the inspector server's socket (which closing the server does not close).
 */
function finish(line: string, code: number): void {
  if (process.exitCode !== undefined) return;
  clearInterval(progress);
  (code === 0 ? console.log : console.error)(`\n${line}`);
  process.exitCode = code;
  socket.close();
  inspector.stop();
  server.stop();
  setTimeout(() => process.exit(), 1000).unref();
}

/** Until the history is complete, the tail and live events wait here, in order. */
let waiting: Message[] | undefined = [];
/** The history, oldest page first. */
const older: Message[][] = [];
const ask = (before: number) => socket.send(JSON.stringify({ type: "history", before, limit: 1000 }));

let opened = false;
socket.addEventListener("open", () => {
  opened = true;
  console.log(`Relaying ${workflow}/${id}; this stops when the instance ends.`);
});
socket.addEventListener("message", (message) => {
  const event = JSON.parse(String(message.data)) as Message;
  if (event.type === "@durable-machines.error") console.error(`\nthe socket refused a request: ${event.message}`);
  else if (event.type === "@durable-machines.tail" || event.type === "@durable-machines.history") {
    if (event.type === "@durable-machines.history") older.unshift(event.events ?? []);
    if (event.from! > 1) return ask(event.from!);
    for (const page of older) page.forEach(relay);
    // Only the tail and live events say how the instance stands now: the older pages are its past.
    ended = undefined;
    // The history holds the creation's root actor; the socket's announcement of the instance as it stands (ids with "@") would repeat it.
    waiting!.filter((e) => !e.id?.includes("@")).forEach(relay);
    waiting = undefined;
  } else if (waiting) waiting.push(event);
  else relay(event);
  if (ended && !waiting) finish(`${workflow}/${id} ended (${ended}); relayed ${relayed} inspection events.`, 0);
});
const unopened = `The inspect socket at ${source.origin} did not open: is the Worker still running, and does it serve the inspect route (workerd only)?`;
// A handshake that fails fires "error", and Node's WebSocket fires "close" only once the server drops the connection.
socket.addEventListener("error", () => {
  if (!opened) finish(unopened, 1);
});
socket.addEventListener("close", (event) => {
  if (!opened) finish(unopened, 1);
  else finish(`The inspect socket closed (${event.code}${event.reason ? ` ${event.reason}` : ""}) before the instance ended; run again to reconnect.`, 1);
});
