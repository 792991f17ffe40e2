import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyRecord, fold } from "../core/fold";
import type { LogRecord } from "../core/records";
import { persist, restore } from "../core/snapshot";
import type { InstanceState } from "../core/state";
import { canonical, execute, formatLog, scenarioArbitrary, type Scenario } from "./harness";
import { definitions } from "./machines";

const SEED = 20261124;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const settings = { seed: SEED, numRuns: RUNS, endOnFailure: false };

/** Every state the log passes through, with the fold context restarts need. */
function statesOf(scenario: Scenario, log: readonly LogRecord[]): InstanceState[] {
  const def = definitions[scenario.machine];
  const context = contextFor(scenario, log);
  const states: InstanceState[] = [];
  let state: InstanceState | undefined;
  for (const record of log) states.push((state = applyRecord(def, state, record, context).state));
  return states;
}

function contextFor(scenario: Scenario, log: readonly LogRecord[]) {
  const def = definitions[scenario.machine];
  return { stateBefore: (seq: number) => fold(def, log.filter((r) => r.seq < seq)) };
}

/** The state without where it stands in the log: what the machine and the book hold. */
function essence(scenario: Scenario, state: InstanceState): string {
  const { machine, book } = persist(definitions[scenario.machine], state);
  return canonical({ machine, book });
}

function explain(scenario: Scenario, log: readonly LogRecord[], problem: string): string {
  return `${problem}\nmachine ${scenario.machine}, plan ${JSON.stringify(scenario.plan)}, snapshot every ${scenario.snapshotEvery}\nlog:\n${formatLog(log)}`;
}

describe("replay properties (fast-check, seeded)", () => {
  it("1. fold is deterministic and pure: folding the same log twice gives equal snapshots, and no record changes the state it is folded onto", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ withCrashes: true }), async (scenario) => {
        const { log } = await execute(scenario);
        const def = definitions[scenario.machine];
        const first = canonical(persist(def, fold(def, log, undefined, contextFor(scenario, log))));
        const second = canonical(persist(def, fold(def, log, undefined, contextFor(scenario, log))));
        expect(second, explain(scenario, log, "two folds of one log differ")).toBe(first);
        let state: InstanceState | undefined;
        for (const record of log) {
          const before = state && canonical(persist(def, state));
          const next = applyRecord(def, state, record, contextFor(scenario, log)).state;
          if (state) expect(canonical(persist(def, state)), explain(scenario, log, `folding record ${record.seq} changed the state it was given`)).toBe(before);
          state = next;
        }
      }),
      settings,
    );
  });

  it("2. snapshot + tail equals the full fold, at every cut, and every snapshot the live host wrote equals the fold up to it", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ withCrashes: true }), fc.nat(), async (scenario, cutSeed) => {
        const { log, snapshots } = await execute(scenario);
        const def = definitions[scenario.machine];
        const context = contextFor(scenario, log);
        const states = statesOf(scenario, log);
        for (const snapshot of snapshots) {
          expect(canonical(snapshot), explain(scenario, log, `the live host's snapshot at seq ${snapshot.seq} differs from the fold of the log up to it`)).toBe(canonical(persist(def, states[snapshot.seq - 1]!)));
        }
        for (let k = 0; k < log.length - 1; k++) {
          const revived = restore(def, JSON.parse(JSON.stringify(persist(def, states[k]!))));
          expect(canonical(persist(def, revived)), explain(scenario, log, `snapshot at seq ${k + 1} does not survive a JSON round trip`)).toBe(canonical(persist(def, states[k]!)));
          const next = applyRecord(def, revived, log[k + 1]!, context).state;
          expect(canonical(persist(def, next)), explain(scenario, log, `record ${k + 2} folds differently onto a restored snapshot`)).toBe(canonical(persist(def, states[k + 1]!)));
        }
        const cut = log.length ? cutSeed % log.length : 0;
        if (log.length) {
          const fromSnapshot = fold(def, log.slice(cut + 1), restore(def, JSON.parse(JSON.stringify(persist(def, states[cut]!)))), context);
          expect(canonical(persist(def, fromSnapshot)), explain(scenario, log, `fold from the snapshot at seq ${cut + 1} plus the tail differs`)).toBe(canonical(persist(def, states.at(-1)!)));
        }
      }),
      settings,
    );
  });

  it("3. a duplicate append (same step key and attempt, same timer id, same idempotency key) changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ withCrashes: false }), async (scenario) => {
        const { log } = await execute(scenario);
        const def = definitions[scenario.machine];
        const context = contextFor(scenario, log);
        const states = statesOf(scenario, log);
        const last = states.at(-1)!;
        log.forEach((record, i) => {
          const deduped =
            record.type === "step.succeeded" || record.type === "step.failed" || record.type === "timer.fired" || (record.type === "event.received" && record.data.idempotencyKey !== undefined);
          if (!deduped) return;
          for (const [where, state] of [["right after it", states[i]!], ["at the end", last]] as const) {
            const duplicate = { ...record, seq: state.seq + 1, at: state.at } as LogRecord;
            const after = applyRecord(def, state, duplicate, context).state;
            expect(essence(scenario, after), explain(scenario, log, `a duplicate of record ${record.seq} appended ${where} changed the state`)).toBe(essence(scenario, state));
          }
        });
      }),
      settings,
    );
  });

  it("4. a crash at any point, then recovery, ends as the run without crashes did, and no recorded step runs again", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ withCrashes: true }), async (scenario) => {
        const crashed = await execute(scenario);
        const calm = await execute({ ...scenario, ops: scenario.ops.filter((op) => op.op !== "crash" && op.op !== "dropSnapshots") });
        expect(crashed.violations, explain(scenario, crashed.log, "a step ran again after its result was recorded")).toEqual([]);
        expect(calm.violations, explain(scenario, calm.log, "a step ran again after its result was recorded")).toEqual([]);
        expect(canonical(crashed.status), explain(scenario, crashed.log, `with crashes the instance ended ${canonical(crashed.status)}; without, ${canonical(calm.status)}; log without crashes:\n${formatLog(calm.log)}\nlog with crashes:`)).toBe(canonical(calm.status));
      }),
      settings,
    );
  });

  it("5. a late result from an older generation of a re-entered step is ignored, and no attempt starts or settles twice", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ withCrashes: false }), async (scenario) => {
        const { log } = await execute(scenario);
        const def = definitions[scenario.machine];
        const context = contextFor(scenario, log);
        const states = statesOf(scenario, log);
        const attempts = new Map<string, number>();
        log.forEach((record, i) => {
          if (record.type === "step.started") attempts.set(record.data.key, record.data.attempt);
          const state = states[i]!;
          for (const [key, attempt] of attempts) {
            if (state.book.steps[key]) continue;
            for (const type of ["step.succeeded", "step.failed"] as const) {
              const late = { type, seq: state.seq + 1, id: "late", at: state.at, data: type === "step.succeeded" ? { key, attempt, output: "late" } : { key, attempt, error: { name: "Error", message: "late" } } } as LogRecord;
              const after = applyRecord(def, state, late, context).state;
              expect(essence(scenario, after), explain(scenario, log, `a late ${type} for ${key} (attempt ${attempt}) after seq ${record.seq} changed the state`)).toBe(essence(scenario, state));
            }
          }
        });
        const results = log.filter((r) => r.type === "step.succeeded" || r.type === "step.failed");
        const keys = results.map((r) => (r as LogRecord<"step.succeeded">).data.key);
        expect(new Set(keys).size, explain(scenario, log, "a step key has two results in the log")).toBe(keys.length);
        const starts = log.filter((r) => r.type === "step.started").map((r) => `${(r as LogRecord<"step.started">).data.key}@${(r as LogRecord<"step.started">).data.attempt}`);
        expect(new Set(starts).size, explain(scenario, log, "an attempt of a step was started twice")).toBe(starts.length);
      }),
      settings,
    );
  });
});
