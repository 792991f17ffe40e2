import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { PersistedState } from "../core/snapshot";
import { MAX_ERROR_MESSAGE_CHARS } from "../core/planner";
import { workflows } from "./worker";
import { until } from "./until";
import { mixedText } from "./registry-workflows";

/**
 * Cloudflare's SQLite-backed Durable Objects refuse a string, BLOB or row
 * over 2 MB (https://developers.cloudflare.com/durable-objects/platform/limits/);
 * local workerd accepts them, so each test measures every row it stored.
 */
const MAX_ROW_BYTES = 2_000_000;

const client = () => workflows.client(env);
const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;
const registryOf = (workflow: string) => env.WORKFLOW_REGISTRY.get(env.WORKFLOW_REGISTRY.idFromName(workflow)) as unknown as { remove(id: string): Promise<void> };

/** The largest row of each table the object holds, in bytes: every column's value as stored, summed. */
function largestRows(workflow: string, id: string): Promise<Record<string, number>> {
  return runInDurableObject(objectOf(workflow, id), (_object, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray();
    const largest: Record<string, number> = {};
    for (const { name } of tables) {
      const columns = sql.exec<{ name: string }>(`PRAGMA table_info("${name}")`).toArray();
      const size = columns.map((column) => `COALESCE(LENGTH(CAST("${column.name}" AS BLOB)), 0)`).join(" + ");
      largest[name] = sql.exec<{ n: number }>(`SELECT COALESCE(MAX(${size}), 0) AS n FROM "${name}"`).one().n;
    }
    return largest;
  });
}

function expectWithinLimit(largest: Record<string, number>): void {
  expect(Object.keys(largest).length).toBeGreaterThan(0);
  for (const [table, bytes] of Object.entries(largest)) expect(bytes, `the largest row of ${table}`).toBeLessThanOrEqual(MAX_ROW_BYTES);
}

const kept = (rounds: number, bytes: number) => Array.from({ length: rounds }, (_, round) => mixedText(bytes, round));

it("a machine whose context grows past 3 MB snapshots it in parts of at most 1 MiB, and after an eviction reloads from that snapshot with the same state", async () => {
  const id = "hoarder-3-6MB";
  const params = { rounds: 4, bytes: 900 * 1024 };
  const instance = await client().workflow("hoarder").create({ id, params });
  await until(() => instance.status(), (s) => s.value === "full", "four outputs kept in the context");
  const largest = await largestRows("hoarder", id);
  expectWithinLimit(largest);

  // The newest snapshot follows the last input (a snapshot every 2 in the test Worker): loading it leaves no log to fold.
  const stored = await runInDurableObject(objectOf("hoarder", id), (object, state) => {
    const sql = state.storage.sql;
    const newest = sql.exec<{ seq: number }>("SELECT MAX(seq) AS seq FROM snapshot_parts").one().seq;
    const parts = sql.exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM snapshot_parts WHERE seq = ? ORDER BY part", newest).toArray().map((row) => new Uint8Array(row.bytes));
    const snapshot = (object as unknown as { store: { snapshot(): PersistedState } }).store.snapshot();
    const last = sql.exec<{ seq: number }>("SELECT MAX(seq) AS seq FROM log").one().seq;
    return { newest, last, sizes: parts.map((part) => part.length), startsInsideACharacter: parts.slice(1).some((part) => (part[0]! & 0xc0) === 0x80), snapshot };
  });
  expect(stored.newest).toBe(stored.last);
  expect(stored.sizes.length).toBeGreaterThanOrEqual(4);
  expect(stored.sizes.slice(0, -1).every((size) => size === 1024 * 1024)).toBe(true);
  // The parts are cut by bytes, through characters: joined as bytes before decoding, they read back exactly.
  expect(stored.startsInsideACharacter).toBe(true);
  expect((stored.snapshot.machine as { context: { kept: string[] } }).context.kept).toEqual(kept(params.rounds, params.bytes));

  const before = await instance.status();
  await evictDurableObject(objectOf("hoarder", id));
  expect(await instance.status()).toEqual(before);
  const reloaded = await runInDurableObject(objectOf("hoarder", id), (object) => {
    const driver = (object as unknown as { driver: { current: { seq: number; machine: { context: { kept: string[] } } } } }).driver;
    return { seq: driver.current.seq, kept: driver.current.machine.context.kept };
  });
  expect(reloaded).toEqual({ seq: stored.last, kept: kept(params.rounds, params.bytes) });
  await instance.sendEvent({ type: "done" });
  expect((await until(() => instance.status(), (s) => s.status === "complete", "the end")).output).toEqual(kept(params.rounds, params.bytes).map((text) => text.length));
  expectWithinLimit(await largestRows("hoarder", id));
});

it("an instance stored by the previous version (a row per snapshot, no outbox) loads, moves its snapshots to parts, reports again and carries on", async () => {
  const id = "single-row-snapshots";
  const params = { rounds: 2, bytes: 1000 };
  const instance = await client().workflow("hoarder").create({ id, params });
  await until(() => instance.status(), (s) => s.value === "full", "two outputs kept");
  const before = { status: await instance.status(), history: await instance.history() };
  // Rewrite the object's storage as the previous version kept it: a `snapshots` table of whole JSON rows.
  const legacy = await runInDurableObject(objectOf("hoarder", id), (object, state) => {
    const sql = state.storage.sql;
    const store = (object as unknown as { store: { snapshot(before?: number): PersistedState | undefined } }).store;
    const snapshots: PersistedState[] = [];
    for (let next = store.snapshot(); next; next = store.snapshot(next.seq)) snapshots.push(next);
    sql.exec("CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, state TEXT NOT NULL)");
    for (const snapshot of snapshots) sql.exec("INSERT INTO snapshots (seq, state) VALUES (?, ?)", snapshot.seq, JSON.stringify(snapshot));
    sql.exec("DROP TABLE snapshot_parts");
    // Nor did it keep an outbox; and say its last report was lost.
    sql.exec("DROP TABLE registry_outbox");
    return snapshots.map((snapshot) => snapshot.seq);
  });
  expect(legacy.length).toBeGreaterThan(0);
  await registryOf("hoarder").remove(id);
  await runInDurableObject(objectOf("hoarder", id), (_object, state) => state.abort("restart on the new version")).catch(() => undefined);

  expect(await until(() => instance.status().then((s) => s, () => undefined), Boolean, "the object to come back")).toEqual(before.status);
  expect(await instance.history()).toEqual(before.history);
  const tables = await runInDurableObject(objectOf("hoarder", id), (_object, state) => ({
    snapshots: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'snapshots'").toArray().length,
    parts: state.storage.sql.exec<{ seq: number }>("SELECT DISTINCT seq FROM snapshot_parts ORDER BY seq DESC").toArray().map((row) => row.seq),
  }));
  expect(tables).toEqual({ snapshots: 0, parts: legacy });
  // Stored before the outbox, it reports again on load.
  await until(async () => (await client().workflow("hoarder").list({ limit: 1000 })).instances.find((i) => i.id === id)?.status, (seen) => seen === before.status.status, "the registry to list it again");
  await instance.sendEvent({ type: "done" });
  expect((await until(() => instance.status(), (s) => s.status === "complete", "the end")).output).toEqual(kept(params.rounds, params.bytes).map((text) => text.length));
});

it("an error with a 5 MB message is stored within the row limit: the records keep its start and say how much was cut", async () => {
  const id = "five-megabyte-error";
  const characters = Math.ceil(5_000_000 / 3);
  const instance = await client().workflow("loud-failure").create({ id, params: { characters } });
  const status = await until(() => instance.status(), (s) => s.status === "errored", "the run to error");
  expectWithinLimit(await largestRows("loud-failure", id));
  const message = status.error!.message;
  // Compared by length and ends: a failed match would print megabytes.
  expect(message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
  expect(message.startsWith(`loud:${"\u20ac".repeat(1000)}`)).toBe(true);
  const note = /… \[(\d+) more characters cut\]$/.exec(message);
  expect(Number(note?.[1])).toBe(5 + characters - (message.length - note![0].length));
  const errors = (await instance.history()).flatMap((record) => ("error" in record.data ? [record.data.error.message] : []));
  expect(errors.length).toBeGreaterThanOrEqual(3);
  expect(errors.every((stored) => stored === message)).toBe(true);
});
