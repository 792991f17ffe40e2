import type { InstanceSummary, WorkflowChange } from "./api";

/** Where a list stands in the API's order: an instance's creation time and id. */
export type Position = Pick<InstanceSummary, "createdAt" | "id">;

/** The API's order (newest first, the id descending within a millisecond): negative when `a` lists before `b`. */
export function newestFirst(a: Position, b: Position): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** What the list holds: its rows newest first, the filter they match, and the last row of the last page read unless every instance was read. */
export interface LoadedRows {
  rows: readonly InstanceSummary[];
  status?: string | undefined;
  /** Rows past this are on pages not read yet ("Next page" reads them); undefined when the list was read to its end. */
  boundary?: Position | undefined;
}

/**
 * The rows after a change from the workflow's change stream: a created or
 * updated instance takes its place in the order if it matches the filter
 * and lies within the pages read (one past the boundary comes with the next
 * page), and leaves the list if it no longer matches; a deleted one leaves.
 * A change carries the instance's whole row, so applying the changes that
 * followed a read of the list, in order, ends where the server is.
 */
export function applyChange(list: LoadedRows, change: WorkflowChange): InstanceSummary[] {
  if (change.type === "sync") return [...list.rows];
  const id = change.type === "deleted" ? change.id : change.instance.id;
  const rows = list.rows.filter((row) => row.id !== id);
  if (change.type === "deleted") return rows;
  const row = change.instance;
  if (list.status !== undefined && row.status !== list.status) return rows;
  if (list.boundary !== undefined && newestFirst(row, list.boundary) > 0) return rows;
  const at = rows.findIndex((other) => newestFirst(row, other) < 0);
  rows.splice(at < 0 ? rows.length : at, 0, row);
  return rows;
}

/** The rows with a further page added: the next page follows the boundary, and a row already there (it came live) is kept once. */
export function withPage(rows: readonly InstanceSummary[], page: readonly InstanceSummary[]): InstanceSummary[] {
  const seen = new Set(rows.map((row) => row.id));
  return [...rows, ...page.filter((row) => !seen.has(row.id))].sort(newestFirst);
}
