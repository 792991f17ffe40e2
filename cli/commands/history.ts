import { apiPath } from "../api";
import { INSTANCE, integerOption, type Command } from "../command";
import { compact, relativeTime, table } from "../format";
import type { HistoryAnswer, LogRecord } from "../wire";

export const history: Command = {
  name: "history",
  summary: "Prints an instance's event log, record by record, oldest first.",
  details: [
    "The whole log, page after page; with --after or --limit, one page (its `next` printed when more follow).",
    "",
    "  durable-machines history order order-17",
    "  durable-machines history order order-17 --after 40 --limit 10 --json",
  ].join("\n"),
  positionals: INSTANCE,
  options: {
    after: { type: "string", value: "SEQ", description: "one page of the records after this seq" },
    limit: { type: "string", value: "N", description: "one page of at most N records (1 to 1000)" },
  },
  usesApi: true,
  async run({ args, options, api, io, json }) {
    const path = (after: number | undefined, limit: number | undefined) => apiPath(["workflows", args.workflow!, "instances", args.id!, "history"], { after, limit });
    const after = integerOption("after", options.after, 0);
    const limit = integerOption("limit", options.limit, 1);
    const onePage = after !== undefined || limit !== undefined;
    let records: LogRecord[] = [];
    let next: number | undefined;
    if (onePage) {
      ({ records, next } = await api.call<HistoryAnswer>("GET", path(after, limit)));
    } else {
      let cursor: number | undefined;
      do {
        const page: HistoryAnswer = await api.call<HistoryAnswer>("GET", path(cursor, undefined));
        records.push(...page.records);
        cursor = page.next;
      } while (cursor !== undefined);
    }
    if (json) return io.out(`${JSON.stringify({ records, ...(next === undefined ? {} : { next }) }, null, 2)}\n`);
    const now = io.now();
    const rows = records.map((r) => [String(r.seq), relativeTime(r.at, now), r.type, compact(r.data)]);
    io.out(table([{ header: "SEQ" }, { header: "WHEN" }, { header: "TYPE" }, { header: "DATA", cut: "end" }], rows, io.columns));
    if (next !== undefined) io.out(`More records follow: add --after ${next}\n`);
  },
};
