import { apiPath } from "../api";
import { INSTANCE, jsonOption, type Command } from "../command";
import type { StatusAnswer } from "../wire";
import { printStatus } from "./status-line";

export const sendEvent: Command = {
  name: "send-event",
  summary: "Sends an event to an instance (what its `on` or `step.waitForEvent` waits for).",
  details: ["  durable-machines send-event order order-17 approve --payload '{\"by\":\"ada\"}'"].join("\n"),
  positionals: [
    ...INSTANCE,
    { name: "type", description: "the event's type" },
  ],
  options: {
    payload: { type: "string", value: "JSON", description: "the event's payload, as JSON" },
    "idempotency-key": { type: "string", value: "KEY", description: "sending again with this key is accepted and changes nothing" },
  },
  usesApi: true,
  async run(context) {
    const { args, options, api } = context;
    const payload = jsonOption("payload", options.payload);
    const key = options["idempotency-key"];
    const body = { type: args.type, ...(payload === undefined ? {} : { payload }), ...(key === undefined ? {} : { idempotencyKey: key }) };
    const answer = await api.call<StatusAnswer>("POST", apiPath(["workflows", args.workflow!, "instances", args.id!, "events"]), body);
    printStatus(context, args.workflow!, `Sent ${args.type} to`, answer);
  },
};
