import { apiPath } from "../api";
import { jsonOption, WORKFLOW, type Command } from "../command";
import type { StatusAnswer } from "../wire";
import { printStatus } from "./status-line";

export const trigger: Command = {
  name: "trigger",
  summary: "Starts an instance of a workflow.",
  details: ["  durable-machines trigger order --params '{\"orderId\":\"A-17\"}'", "  durable-machines trigger order --id order-17 --json"].join("\n"),
  positionals: [WORKFLOW],
  options: {
    params: { type: "string", value: "JSON", description: "the instance's params, as JSON" },
    id: { type: "string", value: "ID", description: "the instance's id (default: one the engine makes up)" },
  },
  usesApi: true,
  async run(context) {
    const { args, options, api } = context;
    const params = jsonOption("params", options.params);
    const body = { ...(options.id === undefined ? {} : { id: options.id }), ...(params === undefined ? {} : { params }) };
    const answer = await api.call<StatusAnswer>("POST", apiPath(["workflows", args.workflow!, "instances"]), body);
    printStatus(context, args.workflow!, "Started", answer);
  },
};
