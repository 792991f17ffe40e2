import { InvalidOperationError } from "../core/errors";
import { kindOf } from "../core/refusals";
import type { LogRecord } from "../core/records";
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, MAX_PAGE_BYTES, type HistoryPage, type InstanceHandle } from "./client";
import type { HostedInstance } from "./hosted";

/** A page request, checked: `after` a whole number from 0, `limit` a whole number from 1 (more than the maximum reads the maximum). */
function pageRange(options: unknown): { after: number; limit: number } {
  const { after = 0, limit = DEFAULT_HISTORY_LIMIT } = (options ?? {}) as { after?: unknown; limit?: unknown };
  if (typeof after !== "number" || !Number.isSafeInteger(after) || after < 0) {
    throw new InvalidOperationError("history.invalid_range", `after must be a whole number from 0 (a record's seq); got ${kindOf(after)}.`);
  }
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidOperationError("history.invalid_range", `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}; got ${kindOf(limit)}.`);
  }
  return { after, limit: Math.min(limit, MAX_HISTORY_LIMIT) };
}

/** One page of a hosted instance's log, as InstanceHandle.historyPage promises it. */
export function readHistoryPage(instance: HostedInstance, options?: { after?: number; limit?: number }): HistoryPage {
  const records = instance.history({ ...pageRange(options), bytes: MAX_PAGE_BYTES });
  const last = records.at(-1)?.seq;
  return last === undefined || last >= instance.summary().seq ? { records } : { records, next: last };
}

/**
 * An instance's log after `after`, a page at a time, oldest first, up to
 * where the log ended when the last page was read: for readers that must
 * see it all without holding it all.
 */
export async function* logPages(instance: Pick<InstanceHandle, "historyPage">, after = 0): AsyncGenerator<LogRecord[], void, undefined> {
  let next: number | undefined = after;
  while (next !== undefined) {
    const page: HistoryPage = await instance.historyPage({ after: next });
    if (page.records.length) yield page.records;
    next = page.next;
  }
}
