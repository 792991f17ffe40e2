import { describe, expect, it } from "vitest";
import type { InstanceSummary, WorkflowChange } from "../api";
import { applyChange, newestFirst, withPage } from "../live-list";

const row = (id: string, createdAt: number, status: InstanceSummary["status"] = "running"): InstanceSummary => ({ id, status, createdAt, updatedAt: createdAt });
const ids = (rows: readonly InstanceSummary[]) => rows.map((r) => r.id);
const counts = {};
const created = (instance: InstanceSummary): WorkflowChange => ({ type: "created", instance, counts });
const updated = (instance: InstanceSummary): WorkflowChange => ({ type: "updated", instance, counts });

describe("the live list", () => {
  const loaded = [row("d", 40), row("c", 30), row("b", 20)];

  it("orders as the API does: newest first, the id descending within a millisecond", () => {
    expect(ids([row("a", 5), row("z", 5), row("m", 9)].sort(newestFirst))).toEqual(["m", "z", "a"]);
  });

  it("puts a new instance in its place, and one past the pages read is left for the next page", () => {
    expect(ids(applyChange({ rows: loaded, boundary: loaded[2] }, created(row("e", 50))))).toEqual(["e", "d", "c", "b"]);
    expect(ids(applyChange({ rows: loaded, boundary: loaded[2] }, created(row("bb", 25))))).toEqual(["d", "c", "bb", "b"]);
    expect(ids(applyChange({ rows: loaded, boundary: loaded[2] }, created(row("a", 10))))).toEqual(["d", "c", "b"]);
    expect(ids(applyChange({ rows: loaded }, created(row("a", 10))))).toEqual(["d", "c", "b", "a"]);
  });

  it("updates a row in place, drops one that leaves the filter, adds one that enters it, and drops a deleted one", () => {
    const waiting = applyChange({ rows: loaded }, updated(row("c", 30, "waiting")));
    expect(waiting.map((r) => [r.id, r.status])).toEqual([["d", "running"], ["c", "waiting"], ["b", "running"]]);
    expect(ids(applyChange({ rows: loaded, status: "running" }, updated(row("c", 30, "complete"))))).toEqual(["d", "b"]);
    expect(ids(applyChange({ rows: [loaded[0]!], status: "complete", boundary: loaded[0] }, updated(row("e", 50, "complete"))))).toEqual(["e", "d"]);
    expect(ids(applyChange({ rows: loaded }, { type: "deleted", id: "c", counts }))).toEqual(["d", "b"]);
    expect(applyChange({ rows: loaded }, { type: "sync", counts })).toEqual(loaded);
  });

  it("ends where the server is when the changes after a read are applied to it, whichever came first", () => {
    // The read already shows c complete; the changes since say c ran, then completed, and e came and went.
    const read = [row("d", 40), row("c", 30, "complete")];
    const changes = [updated(row("c", 30, "running")), created(row("e", 50)), updated(row("c", 30, "complete")), { type: "deleted", id: "e", counts } as WorkflowChange];
    const end = changes.reduce<InstanceSummary[]>((rows, change) => applyChange({ rows }, change), read);
    expect(end).toEqual(read);
  });

  it("adds a page after the rows, keeping once a row that came live", () => {
    expect(ids(withPage(loaded, [row("b", 20), row("a", 10)]))).toEqual(["d", "c", "b", "a"]);
  });
});
