import { apiPath } from "../api";
import { integerOption, type Command, type CommandContext } from "../command";
import { UsageError } from "../errors";
import { relativeTime, table } from "../format";
import type { CountsAnswer, ListAnswer } from "../wire";

/** The statuses given a column in the workflows table; the rest count in INSTANCES only (--json has them all). */
const COUNTED = ["running", "waiting", "paused", "errored", "terminated", "complete"] as const;

async function listWorkflows({ api, io, json, options }: CommandContext): Promise<void> {
  const paging = ["status", "limit", "cursor", "order"].filter((name) => options[name] !== undefined);
  if (paging.length) throw new UsageError(`--${paging[0]} lists one workflow's instances: durable-machines list <workflow> --${paging[0]} …`);
  const { workflows } = await api.call<{ workflows: string[] }>("GET", apiPath(["workflows"]));
  const counted = await Promise.all(workflows.map((name) => api.call<CountsAnswer>("GET", apiPath(["workflows", name]))));
  if (json) return io.out(`${JSON.stringify({ workflows: counted }, null, 2)}\n`);
  if (counted.length === 0) return io.out("The Worker serves no workflows.\n");
  const rows = counted.map(({ name, counts }) => [name, String(Object.values(counts).reduce((sum, n) => sum + n, 0)), ...COUNTED.map((status) => String(counts[status] ?? 0))]);
  io.out(table([{ header: "WORKFLOW", cut: "end" }, { header: "INSTANCES" }, ...COUNTED.map((status) => ({ header: status.toUpperCase() }))], rows, io.columns));
}

async function listInstances({ api, io, json, options }: CommandContext, workflow: string): Promise<void> {
  const status = options.status as string | undefined;
  const query = { status, limit: integerOption("limit", options.limit, 1), cursor: options.cursor as string | undefined, order: options.order as string | undefined };
  const page = await api.call<ListAnswer>("GET", apiPath(["workflows", workflow, "instances"], query));
  if (json) return io.out(`${JSON.stringify(page, null, 2)}\n`);
  if (page.instances.length === 0) {
    const which = status ? `with status ${status}` : `yet; start one with: durable-machines trigger ${workflow}`;
    return io.out(`No instances of ${workflow} ${which}\n`);
  }
  const now = io.now();
  const rows = page.instances.map((i) => [i.id, i.status, relativeTime(i.createdAt, now), relativeTime(i.updatedAt, now)]);
  io.out(table([{ header: "ID", cut: "middle" }, { header: "STATUS" }, { header: "CREATED" }, { header: "UPDATED" }], rows, io.columns));
  if (page.cursor) io.out(`More instances follow: add --cursor ${page.cursor}${query.order ? ` --order ${query.order}` : ""}\n`);
}

export const list: Command = {
  name: "list",
  summary: "Lists the workflows with their instance counts, or a workflow's instances.",
  details: [
    "Without <workflow>: one row per workflow, how many instances it has in all and in each status.",
    "With <workflow>: its instances newest first (--order oldest for the oldest first), a page at a time (--limit, --cursor), optionally only one --status.",
    "",
    "  durable-machines list",
    "  durable-machines list order --status errored",
  ].join("\n"),
  positionals: [{ name: "workflow", optional: true, description: "list this workflow's instances" }],
  options: {
    status: { type: "string", value: "STATUS", description: "only instances with this status (running, waiting, paused, errored, terminated, complete, …)" },
    limit: { type: "string", value: "N", description: "at most N instances (1 to 1000; default 100)" },
    cursor: { type: "string", value: "CURSOR", description: "the page after this cursor, as the previous page printed it" },
    order: { type: "string", value: "ORDER", description: "newest (the default) or oldest first, by creation time" },
  },
  usesApi: true,
  run: (context) => (context.args.workflow === undefined ? listWorkflows(context) : listInstances(context, context.args.workflow)),
};
