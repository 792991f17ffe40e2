import { expect } from "vitest";
import type { WorkflowClient } from "../runtime/client";
import type { WorkflowChange, WorkflowWatch } from "../runtime/workflow-watch";

/** The next change that satisfies `wanted`, every change read on the way kept in `seen`. */
export async function changeUntil(watch: WorkflowWatch, seen: WorkflowChange[], wanted: (change: WorkflowChange) => boolean): Promise<WorkflowChange> {
  for (;;) {
    const next = await watch.next();
    if (next.done) throw new Error(`The watch ended before the change awaited; seen: ${JSON.stringify(seen)}`);
    seen.push(next.value);
    if (wanted(next.value)) return next.value;
  }
}

const about = (id: string) => (change: WorkflowChange) => (change.type === "deleted" ? change.id === id : change.type !== "sync" && change.instance.id === id);

/**
 * What watch() must tell on every host, run against the memory host in Node
 * (adapters/memory/watch.test.ts) and the Durable Object host in workerd
 * (test/watch.test.ts), over the `gate` machine (it prepares, then waits for
 * `approve`): a `sync` with the counts first; an instance's creation before
 * any change of it; its status as it settles; its deletion; each with the
 * counts after it, which end equal to counts(); nothing after dispose.
 */
export async function watchScenario(gate: WorkflowClient, id: string): Promise<void> {
  const watch = await gate.watch();
  const seen: WorkflowChange[] = [];
  const first = await watch.next();
  expect(first).toEqual({ done: false, value: { type: "sync", counts: await gate.counts() } });

  const instance = await gate.create({ id });
  const waiting = await changeUntil(watch, seen, (change) => about(id)(change) && change.type !== "deleted" && change.type !== "sync" && change.instance.status === "waiting");
  const mine = seen.filter(about(id));
  expect(mine[0]!.type, "the creation comes before any change of the instance").toBe("created");
  expect(mine.slice(1).every((change) => change.type === "updated")).toBe(true);
  expect(waiting).toMatchObject({ instance: { id, status: "waiting" } });
  if (waiting.type !== "updated" && waiting.type !== "created") throw new Error("unreachable");
  const listed = (await gate.list({ limit: 1000 })).instances.find((s) => s.id === id);
  expect(waiting.instance).toEqual(listed);
  expect(waiting.counts).toEqual(await gate.counts());

  await instance.sendEvent({ type: "approve" });
  const complete = await changeUntil(watch, seen, (change) => about(id)(change) && change.type === "updated" && change.instance.status === "complete");
  expect(complete.counts).toEqual(await gate.counts());
  expect(complete.counts.complete).toBe(waiting.counts.complete + 1);
  expect(complete.counts.waiting).toBe(waiting.counts.waiting - 1);

  await instance.delete();
  const deleted = await changeUntil(watch, seen, about(id));
  expect(deleted).toEqual({ type: "deleted", id, counts: await gate.counts() });
  expect(deleted.counts.complete).toBe(complete.counts.complete - 1);

  watch[Symbol.dispose]();
  expect(await watch.next()).toEqual({ done: true, value: undefined });
}
