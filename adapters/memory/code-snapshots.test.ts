import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, WorkflowEntrypoint, type InstanceHandle, type LogRecord, type WorkflowEvent, type WorkflowStep } from "../../index";
import { foldCode } from "../../core/code/fold";
import type { StoredSnapshot } from "../../core/snapshot";
import { snapshotDue } from "../../runtime/code-snapshots";
import type { InstanceStore } from "../../runtime/store";
import { MemoryStorage } from "./storage";

/**
 * Code-first instances store snapshots of their fold (runtime/code-snapshots.ts): at the spacing snapshotDue
 * promises, so that all of them together stay about twice the state, and a load folds only the tail after the
 * newest. Checked end to end on the memory host, without workerd: a long run, a crash, a restart from a step.
 */

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const OUTPUT = "x".repeat(100);

/** A run() of `steps` steps that then waits for "finish": each pass that gets that far reports what its steps returned. */
function longWorkflow(steps: number) {
  const passes: string[][] = [];
  /** How many times each step's body ran, by its number. */
  const bodies = new Map<number, number>();
  class Long extends WorkflowEntrypoint {
    async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
      const values: string[] = [];
      for (let i = 1; i <= steps; i++) {
        values.push(await step.do("s", async () => (bodies.set(i, (bodies.get(i) ?? 0) + 1), `${i}:${OUTPUT}`)));
      }
      passes.push(values);
      await step.waitForEvent("finish", { type: "finish" });
      return values.length;
    }
  }
  /** Waits, on a condition and not on time, until `count` passes of run() have reached the wait. */
  const reached = async (count: number) => {
    while (passes.length < count) await flush();
  };
  return { def: defineWorkflow({ name: "long", entrypoint: Long, stepLimit: Math.max(steps, 1) }), passes, bodies, reached };
}

/** A memory storage that notes every snapshot a load or a restart asks for, and what it got. */
class WatchedStorage extends MemoryStorage {
  readonly reads: { before: number | undefined; got: number | undefined }[] = [];

  override store(workflow: string, id: string): InstanceStore {
    const store = super.store(workflow, id);
    return {
      ...store,
      snapshot: (before) => {
        const found = store.snapshot(before);
        this.reads.push({ before, got: found?.seq });
        return found;
      },
    };
  }
}

function setup(steps: number, snapshotEvery: number) {
  const workflow = longWorkflow(steps);
  const storage = new WatchedStorage();
  const host = createMemoryHost({ workflows: [workflow.def], clock: createManualClock(1_000_000), storage, snapshotEvery });
  return { ...workflow, storage, host, log: () => storage.store("long", "i").read(), snapshots: () => storage.snapshots("long", "i") };
}

/** Everything a reader sees of an instance: its status and its whole history, page by page. */
async function seen(handle: InstanceHandle) {
  const history: LogRecord[] = [];
  for (;;) {
    const page = await handle.historyPage({ after: history.at(-1)?.seq ?? 0 });
    history.push(...page.records);
    if (!page.records.length) break;
  }
  return { status: await handle.status(), history };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

/** Each snapshot is the fold of the log up to its seq, as a load would fold it with none. */
function expectFoldsOfTheLog(snapshots: StoredSnapshot[], log: LogRecord[]): void {
  for (const snapshot of snapshots) expect(snapshot, `snapshot at seq ${snapshot.seq}`).toEqual(json(foldCode(log.filter((r) => r.seq <= snapshot.seq))));
}

describe("code-first snapshots on the memory host", () => {
  it("a 300-step run writes snapshots at snapshotDue's spacing, about twice its state in all, and a crash changes nothing run() or a reader sees", async () => {
    const every = 10;
    const t = setup(300, every);
    const handle = await t.host.workflow("long").create({ id: "i" });
    await t.reached(1);
    const log = t.log();
    const snapshots = t.snapshots();
    expect(snapshots.length).toBeGreaterThan(3);

    // Each snapshot came with the first write that made one due (one record a write here: a step's start or result);
    // the count starts after the instance's first record, which its creation writes alone.
    let previous = 1;
    for (const { seq } of snapshots) {
      expect(snapshotDue(seq - previous, seq, every), `snapshot at seq ${seq} after ${previous}`).toBe(true);
      expect(snapshotDue(seq - 1 - previous, seq - 1, every), `a snapshot was due before seq ${seq}`).toBe(false);
      previous = seq;
    }
    expect(snapshotDue(log.length - previous, log.length, every), "a snapshot due at the end of the log was not written").toBe(false);
    expectFoldsOfTheLog(snapshots, log);

    const written = snapshots.reduce((total, snapshot) => total + bytes(snapshot), 0);
    const state = bytes(foldCode(log));
    const results = log.reduce((total, r) => total + (r.type === "step.succeeded" ? bytes(r.data.output) : 0), 0);
    console.log(`300 steps, snapshotEvery ${every}: ${snapshots.length} snapshots at seq ${snapshots.map((s) => s.seq).join(", ")} of ${log.length}; ${written} bytes in all, state ${state} bytes, step outputs ${results} bytes`);
    expect(written).toBeLessThanOrEqual(2 * state);

    const before = await seen(handle);
    expect(before.status).toEqual({ status: "waiting", value: ["waitForEvent:finish-1"] });
    t.storage.reads.length = 0;
    t.host.crash();
    // The load starts from the newest snapshot.
    expect(t.storage.reads[0]).toEqual({ before: Infinity, got: snapshots.at(-1)!.seq });
    await t.reached(2);
    expect(t.passes[1]).toEqual(t.passes[0]);
    expect(await seen(handle)).toEqual(before);
    expect(t.log()).toEqual(log);
    expect([...t.bodies.values()].every((runs) => runs === 1)).toBe(true);

    await handle.sendEvent({ type: "finish" });
    await t.host.idle();
    await flush();
    expect(await handle.status()).toMatchObject({ status: "complete", output: 300 });
  });

  it("a restart from a step after snapshots exist folds the log before its cut from the newest snapshot below the cut", async () => {
    const t = setup(300, 10);
    const handle = await t.host.workflow("long").create({ id: "i" });
    await t.reached(1);
    const cut = t.log().find((r) => r.type === "step.started" && r.data.key === "do:s-250")!.seq;
    const below = t.snapshots().filter((s) => s.seq < cut);
    expect(below.length).toBeGreaterThan(0);

    t.storage.reads.length = 0;
    await handle.restart({ from: "do:s-250" });
    expect(t.storage.reads).toContainEqual({ before: cut, got: below.at(-1)!.seq });
    await t.reached(2);
    expect(t.passes[1]).toEqual(t.passes[0]);
    // Steps before the cut are answered from the snapshot's results; from the cut on, each runs again, once.
    for (const [i, runs] of t.bodies) expect(runs, `step ${i}`).toBe(i < 250 ? 1 : 2);

    const log = t.log();
    expectFoldsOfTheLog(t.snapshots(), log);
    const restarted = await seen(handle);
    expect(restarted.status).toEqual({ status: "waiting", value: ["waitForEvent:finish-1"] });
    // The same instance loaded from its log alone reads the same.
    t.storage.dropSnapshots();
    t.host.crash();
    await t.reached(3);
    expect(await seen(handle)).toEqual(restarted);
    expect(t.passes[2]).toEqual(t.passes[0]);
  });

  /**
   * A measure, not a test of speed (no timing is asserted): the time a load of a 10,000-step instance takes with
   * snapshots every 100 records and with none, printed for the report. What is checked is that both loads read the same.
   */
  it("measures the load of a 10,000-step instance with and without snapshots (printed, not asserted)", async () => {
    const runs = 5;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const results: Record<string, { load: number[]; replay: number[]; snapshots: number; status: unknown }> = {};
    for (const [label, every] of [
      ["snapshotEvery 100", 100],
      ["snapshots off", 1e12],
    ] as const) {
      const t = setup(10_000, every);
      const built = performance.now();
      const handle = await t.host.workflow("long").create({ id: "i" });
      await t.reached(1);
      const buildMs = performance.now() - built;
      const result = { load: [] as number[], replay: [] as number[], snapshots: t.snapshots().length, status: undefined as unknown };
      for (let run = 0; run < runs; run++) {
        const start = performance.now();
        t.host.crash();
        result.status = await handle.status();
        result.load.push(performance.now() - start);
        await t.reached(run + 2);
        result.replay.push(performance.now() - start);
      }
      results[label] = result;
      console.log(
        `10,000 steps (${t.log().length} records), ${label}: ${result.snapshots} snapshots, built in ${buildMs.toFixed(0)} ms; ` +
          `crash + first status median ${median(result.load).toFixed(1)} ms [${result.load.map((ms) => ms.toFixed(1)).join(", ")}], ` +
          `until run() has replayed to its wait median ${median(result.replay).toFixed(1)} ms`,
      );
    }
    expect(results["snapshotEvery 100"]!.snapshots).toBeGreaterThan(0);
    expect(results["snapshots off"]!.snapshots).toBe(0);
    expect(results["snapshotEvery 100"]!.status).toEqual(results["snapshots off"]!.status);
  });
});
