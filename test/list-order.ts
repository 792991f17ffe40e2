import { expect } from "vitest";
import { InvalidOperationError } from "../core/errors";
import type { InstanceSummary, ListOptions, WorkflowClient } from "../runtime/client";

/**
 * What list()'s order must do on every host, run against the memory host in
 * Node (adapters/memory/list-order.test.ts) and the Durable Object host in
 * workerd (test/list-order.test.ts), over the `gate` machine, whose
 * instances wait for an event once prepared, so their status stands still.
 */
export interface ListWorld {
  gate: WorkflowClient;
  /** Moves the instances' clock ahead, so the next instance is created later. */
  advance(ms: number): void;
  /** Waits until list() shows exactly these instances of the scenario (by prefix) as waiting: the Durable Object host's registry hears of them after the fact. */
  listed(prefix: string, ids: readonly string[]): Promise<void>;
}

/** Every instance list() pages through from the first page, following cursors, with pages of `limit`. */
export async function everyPage(gate: WorkflowClient, options: ListOptions & { limit: number }): Promise<InstanceSummary[][]> {
  const pages: InstanceSummary[][] = [];
  let cursor: string | undefined;
  do {
    const page = await gate.list({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.instances.length).toBeLessThanOrEqual(options.limit);
    pages.push(page.instances);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return pages;
}

const ids = (summaries: readonly InstanceSummary[], prefix: string) => summaries.map((s) => s.id).filter((id) => id.startsWith(prefix));

async function refusal(work: Promise<unknown>): Promise<InvalidOperationError> {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidOperationError);
  return error as InvalidOperationError;
}

/**
 * Instances created a second apart, in an order their ids do not follow:
 * list() is newest first unless asked for "oldest", across page
 * boundaries; a cursor continues after its page's last instance even when
 * instances are created and deleted between pages; a status filter keeps
 * the order; a cursor given with the other order, or an unknown order, is
 * refused with its code.
 */
export async function listOrderScenario(world: ListWorld, prefix: string): Promise<void> {
  const { gate } = world;
  // An order of creation that is neither the ids' order nor its reverse.
  const created = ["c", "e", "a", "d", "b"].map((letter) => `${prefix}-${letter}`);
  for (const id of created) {
    await gate.create({ id });
    world.advance(1_000);
  }
  await world.listed(prefix, created);
  const newestFirst = [...created].reverse();

  const one = await gate.list({ limit: 1000 });
  expect(ids(one.instances, prefix)).toEqual(newestFirst);
  expect(ids((await gate.list({ limit: 1000, order: "newest" })).instances, prefix)).toEqual(newestFirst);
  expect(ids((await gate.list({ limit: 1000, order: "oldest" })).instances, prefix)).toEqual(created);
  // The whole list, whatever else the workflow holds: by creation time, newest first, the id breaking ties.
  const times = one.instances.map((s) => [s.createdAt, s.id] as const);
  expect(times).toEqual([...times].sort(([at1, id1], [at2, id2]) => at2 - at1 || (id1 < id2 ? 1 : -1)));

  for (const order of ["newest", "oldest"] as const) {
    const pages = await everyPage(gate, { limit: 2, order });
    const all = pages.flat();
    expect(new Set(all.map((s) => s.id)).size, "no instance on two pages").toBe(all.length);
    expect(ids(all, prefix)).toEqual(order === "newest" ? newestFirst : created);
  }
  expect(ids((await gate.list({ limit: 1000, status: "waiting", order: "oldest" })).instances, prefix)).toEqual(created);
  expect(ids((await gate.list({ limit: 1000, status: "complete" })).instances, prefix)).toEqual([]);

  // Between the first page and the next, a newer instance comes and one not yet reached goes: the next page goes on after the first.
  const first = await gate.list({ limit: 2 });
  expect(ids(first.instances, prefix)).toEqual(newestFirst.slice(0, 2));
  const newcomer = `${prefix}-f`;
  await gate.create({ id: newcomer });
  await (await gate.get(newestFirst[3]!)).delete();
  await world.listed(prefix, [newcomer, ...newestFirst.filter((_, i) => i !== 3)]);
  const rest: InstanceSummary[] = [];
  for (let cursor = first.cursor; cursor !== undefined; ) {
    const page = await gate.list({ limit: 2, cursor });
    rest.push(...page.instances);
    cursor = page.cursor;
  }
  expect(ids(rest, prefix)).toEqual([newestFirst[2], newestFirst[4]]);

  expect((await refusal(gate.list({ limit: 2, cursor: first.cursor!, order: "oldest" }))).code).toBe("list.invalid_cursor");
  expect((await refusal(gate.list({ cursor: newestFirst[0]! }))).code).toBe("list.invalid_cursor");
  expect((await refusal(gate.list({ order: "latest" as never }))).code).toBe("list.invalid_order");
}
