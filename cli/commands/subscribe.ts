import { serverSentEvents } from "../../adapters/worker/server-sent-events";
import { apiPath } from "../api";
import { INSTANCE, type Command } from "../command";
import { compact, relativeTime } from "../format";
import type { InstanceEvent } from "../wire";

/** What an event says beyond its type: the step, and whichever of its fields are not the envelope's. */
function detail(event: InstanceEvent): string {
  const { eventId: _id, timestamp: _at, type: _type, instanceId: _instance, stepName, ...rest } = event;
  const extra = Object.keys(rest).length ? compact(rest) : "";
  return [stepName, extra].filter(Boolean).join("  ");
}

/** One event as a line, its first columns padded so that lines printed one by one still read as a table. */
function line(event: InstanceEvent, now: number): string {
  return `${`#${event.eventId}`.padEnd(5)} ${relativeTime(event.timestamp, now).padEnd(10)} ${event.type.padEnd(19)} ${detail(event)}`.trimEnd() + "\n";
}

export const subscribe: Command = {
  name: "subscribe",
  summary: "Prints an instance's events as they happen, until its run ends.",
  details: [
    "Cloudflare's instance events (workflow_started, step_started, attempt_errored, step_completed, …) from the first",
    "(or after --cursor), then live until the run's terminal event; with --json, one JSON event per line.",
    "",
    "  durable-machines subscribe order order-17",
    "  durable-machines subscribe order order-17 --filter step_completed,workflow_completed --json",
  ].join("\n"),
  positionals: INSTANCE,
  options: {
    cursor: { type: "string", value: "EVENT", description: "only events after this eventId" },
    filter: { type: "string", value: "TYPES", description: "only these event types, comma-separated" },
  },
  usesApi: true,
  async run({ args, options, api, io, json }) {
    const path = apiPath(["workflows", args.workflow!, "instances", args.id!, "events"], { cursor: options.cursor as string | undefined, filter: options.filter as string | undefined });
    const response = await api.send("GET", path, { headers: { accept: "text/event-stream" } });
    if (!response.ok) throw await api.failure(response);
    if (response.status === 204 || !response.body) {
      if (!json) io.out(`${args.workflow}/${args.id} has finished, and no event follows the cursor.\n`);
      return;
    }
    for await (const { data } of serverSentEvents(response.body)) {
      const event = JSON.parse(data) as InstanceEvent;
      io.out(json ? `${JSON.stringify(event)}\n` : line(event, io.now()));
    }
  },
};
