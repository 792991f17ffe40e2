/**
 * `npm run inspect -- <workflow> <instance id>`: opens the Stately inspector
 * on one instance. It subscribes to the instance's inspect socket with
 * @statelyai/inspect's receiver and relays every event to the package's
 * local inspector server, which shows them in the Stately inspector in your
 * browser. Options: --url (default http://localhost:8787), --token (default
 * the API_TOKEN env var, else local-dev-token), --port (default 8080).
 */
import { createWebSocketInspector, createWebSocketReceiver } from "@statelyai/inspect";
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

createInspectorServer({ port: Number(values.port) });
const inspector = createWebSocketInspector({ url: `ws://localhost:${values.port}` });
let relayed = 0;
createWebSocketReceiver({ server: source.toString() }).subscribe((event) => {
  inspector.adapter.send(event);
  relayed++;
});
setInterval(() => process.stdout.write(`\rrelayed ${relayed} inspection events from ${workflow}/${id}`), 1000);
