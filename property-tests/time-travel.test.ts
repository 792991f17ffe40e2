import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defineWorkflow, MemoryStorage, WorkflowEntrypoint } from "../index";
import { foldCode } from "../core/code/fold";
import type { AnyWorkflowDefinition } from "../core/definition";
import { fold } from "../core/fold";
import type { LogRecord } from "../core/records";
import { persist, type StoredSnapshot } from "../core/snapshot";
import { codeInstant, machineInstant, type Instant } from "../core/time-travel";
import { instantAfter } from "../runtime/time-travel";
import * as codeHarness from "./code-harness";
import { canonical, execute, formatLog, scenarioArbitrary } from "./harness";
import { definitions } from "./machines";

/**
 * Time travel answers what folding the log's first `seq` records from
 * scratch gives, for every seq: from the newest snapshot at or before it
 * and the tail, as recovery folds, or from the log alone. Runs are the
 * replay harnesses' generated schedules; snapshots are taken every `every`
 * records, as a store keeps them (JSON), or not at all.
 */

const SEED = 20261217;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
const settings = (offset: number) => ({ seed: SEED + offset, numRuns: RUNS, endOnFailure: false });
/** Records between two snapshots; 0 takes none. */
const every = fc.constantFrom(0, 1, 3, 7);

/** A store holding the log, and a snapshot of its fold every `every` records (the state `snapshot` makes from a prefix). */
function storeOf(log: readonly LogRecord[], every: number, snapshot: (prefix: readonly LogRecord[]) => StoredSnapshot) {
  const store = new MemoryStorage().store("subject", "subject");
  store.append(log);
  if (every > 0) for (let seq = every; seq <= log.length; seq += every) store.saveSnapshot(snapshot(log.slice(0, seq)));
  return store;
}

/** The first seq at which time travel and the fold from scratch disagree, with both answers. */
function firstMismatch(def: AnyWorkflowDefinition, log: readonly LogRecord[], every: number, fromScratch: (prefix: readonly LogRecord[]) => Instant, snapshot: (prefix: readonly LogRecord[]) => StoredSnapshot) {
  const store = storeOf(log, every, snapshot);
  for (let seq = 1; seq <= log.length; seq++) {
    const travelled = canonical(instantAfter(def, store, log.length, seq));
    const expected = canonical(fromScratch(log.slice(0, seq)));
    if (travelled !== expected) return { seq, travelled, expected };
  }
  return undefined;
}

/** A code-first definition for instantAfter to dispatch on: folding a code-first log needs no run(). */
const codeDefinition = defineWorkflow({
  name: codeHarness.WORKFLOW,
  entrypoint: class extends WorkflowEntrypoint {
    async run() {}
  },
});

describe("time travel (fast-check, seeded)", () => {
  it("a machine's state after every seq equals folding its first seq records from scratch, with and without snapshots", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ withCrashes: true, maxOps: 40 }), every, async (scenario, every) => {
        const def = definitions[scenario.machine];
        const { log } = await execute(scenario);
        const mismatch = firstMismatch(def, log, every, (prefix) => machineInstant(fold(def, prefix)), (prefix) => persist(def, fold(def, prefix)));
        expect(mismatch, mismatch && `after seq ${mismatch.seq} (snapshot every ${every}) time travel shows\n${mismatch.travelled}\nnot\n${mismatch.expected}\nlog:\n${formatLog(log)}`).toBeUndefined();
      }),
      settings(1),
    );
  });

  it("a code-first run's state after every seq equals folding its first seq records from scratch, with and without snapshots", async () => {
    await fc.assert(
      fc.asyncProperty(codeHarness.scenarioArbitrary({ withCrashes: true, maxOps: 40 }), every, async (scenario, every) => {
        const { log } = await codeHarness.execute(scenario);
        const mismatch = firstMismatch(codeDefinition, log, every, (prefix) => codeInstant(foldCode(prefix)), (prefix) => foldCode(prefix));
        expect(mismatch, mismatch && `after seq ${mismatch.seq} (snapshot every ${every}) time travel shows\n${mismatch.travelled}\nnot\n${mismatch.expected}\n${codeHarness.describeScenario(scenario)}\nlog:\n${formatLog(log)}`).toBeUndefined();
      }),
      settings(2),
    );
  });
});
