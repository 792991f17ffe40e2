/**
 * `npm run inspect -- <workflow> <instance id>`: opens the Stately inspector
 * on one instance. It connects to the instance's inspect socket, asks it for
 * the older events a page at a time back to the instance's creation, relays
 * the whole history in order to @statelyai/inspect's local inspector server
 * (which shows it in the Stately inspector in your browser), then each live
 * event. Options: --url (default http://localhost:8787), --token (default the
 * API_TOKEN env var, else local-dev-token), --port (default 8080). The socket
 * protocol is in docs/inspection.md.
 */
import { createWebSocketInspector } from "@statelyai/inspect";
import { createInspectorServer } from "@statelyai/inspect/server";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: "string", default: "http://localhost:8787" }, token: { type: "string" }, port: { type: "string", default: "8080" } },
});
const [workflow, id] = positionals;
if (!workflow || !id) {
  console.error("usage: npm run inspect -- <workflow> <instance id> [--url http://localhost:8787] [--token …] [--port 8080]");
  process.exit(2);
}
const token = values.token ?? process.env.API_TOKEN ?? "local-dev-token";
const source = new URL(`/api/workflows/${encodeURIComponent(workflow)}/instances/${encodeURIComponent(id)}/inspect`, values.url);
source.protocol = source.protocol === "https:" ? "wss:" : "ws:";
source.searchParams.set("token", token);

interface Message {
  type: string;
  id?: string;
  from?: number;
  events?: Message[];
  message?: string;
}

createInspectorServer({ port: Number(values.port) });
const inspector = createWebSocketInspector({ url: `ws://localhost:${values.port}` });
let relayed = 0;
const relay = (event: Message) => {
  inspector.adapter.send(event as never);
  relayed++;
};

/** Until the history is complete, the tail and live events wait here, in order. */
let waiting: Message[] | undefined = [];
/** The history, oldest page first. */
const older: Message[][] = [];
const socket = new WebSocket(source);
const ask = (before: number) => socket.send(JSON.stringify({ type: "history", before, limit: 1000 }));

socket.addEventListener("message", (message) => {
  const event = JSON.parse(String(message.data)) as Message;
  if (event.type === "@durable-machines.error") console.error(`\nthe socket refused a request: ${event.message}`);
  else if (event.type === "@durable-machines.tail" || event.type === "@durable-machines.history") {
    if (event.type === "@durable-machines.history") older.unshift(event.events ?? []);
    if (event.from! > 1) return ask(event.from!);
    for (const page of older) page.forEach(relay);
    // The history holds the creation's root actor; the socket's announcement of the instance as it stands (ids with "@") would repeat it.
    waiting!.filter((e) => !e.id?.includes("@")).forEach(relay);
    waiting = undefined;
  } else if (waiting) waiting.push(event);
  else relay(event);
});
socket.addEventListener("close", (event) => {
  console.error(`\nthe inspect socket closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`);
  process.exit(1);
});
setInterval(() => process.stdout.write(`\rrelayed ${relayed} inspection events from ${workflow}/${id}`), 1000);
