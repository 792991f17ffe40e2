import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LogRecord } from "../core/records";
import { timeline, type Bar, type TimelineForm } from "../core/timeline";
import * as codeHarness from "./code-harness";
import { execute, formatLog, scenarioArbitrary } from "./harness";
import { definitions } from "./machines";

/**
 * The timeline of any generated run (the replay harnesses' schedules, with
 * crashes, pauses, restarts and rollbacks): no bar ends before it starts,
 * and every attempt the log starts (step.started, rollback.step.started) has
 * exactly one bar, which begins at that record; no step has two attempts open.
 */

const SEED = 20261218;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const settings = (offset: number) => ({ seed: SEED + offset, numRuns: RUNS, endOnFailure: false });

/** What is wrong with a log's timeline, if anything. */
function problems(log: readonly LogRecord[], form: TimelineForm): string[] {
  const bars = timeline(log, form, { now: (log.at(-1)?.at ?? 0) + 1_000 });
  const found: string[] = [];
  for (const bar of bars) {
    if (bar.end < bar.start) found.push(`${describeBar(bar)} ends before it starts`);
    if (bar.endSeq !== undefined && bar.endSeq < bar.startSeq) found.push(`${describeBar(bar)} ends at a record before its first`);
    if (bar.open !== (bar.endSeq === undefined)) found.push(`${describeBar(bar)} is open yet has an end record, or closed without one`);
  }
  const attempts = bars.filter((bar) => bar.kind === "attempt" || bar.kind === "rollbackAttempt");
  const starts = log.filter((record) => record.type === "step.started" || record.type === "rollback.step.started");
  for (const record of starts) {
    const mine = attempts.filter((bar) => bar.startSeq === record.seq);
    if (mine.length !== 1 || mine[0]!.key !== record.data.key || mine[0]!.attempt !== record.data.attempt || mine[0]!.start !== record.at) {
      found.push(`the ${record.type} at seq ${record.seq} has ${mine.length} bars: ${mine.map(describeBar).join("; ")}`);
    }
  }
  const openKeys = attempts.filter((bar) => bar.open).map((bar) => `${bar.kind} ${bar.key}`);
  if (new Set(openKeys).size !== openKeys.length) found.push(`more than one attempt of a step is open: ${openKeys.join(", ")}`);
  if (attempts.length !== starts.length) found.push(`${attempts.length} attempt bars for ${starts.length} started attempts`);
  return found;
}

const describeBar = (bar: Bar) => `${bar.kind} "${bar.label}" (seq ${bar.startSeq}–${bar.endSeq ?? "open"}, ${bar.start}–${bar.end})`;

describe("timeline (fast-check, seeded)", () => {
  it("a machine's bars never end before they start, and each started attempt has exactly one bar, with or without its definition", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ withCrashes: true, maxOps: 40 }), async (scenario) => {
        const { log } = await execute(scenario);
        for (const form of [{ kind: "machine", definition: definitions[scenario.machine] }, { kind: "machine" }] as const) {
          const found = problems(log, form);
          expect(found, `${found.join("\n")}\nmachine ${scenario.machine}${form.definition ? "" : " (no definition)"}\nlog:\n${formatLog(log)}`).toEqual([]);
        }
      }),
      settings(1),
    );
  });

  it("a code-first run's bars never end before they start, and each started attempt (a rollback handler's too) has exactly one bar", async () => {
    await fc.assert(
      fc.asyncProperty(codeHarness.scenarioArbitrary({ withCrashes: true, maxOps: 40 }), async (scenario) => {
        const { log } = await codeHarness.execute(scenario);
        const found = problems(log, { kind: "code" });
        expect(found, `${found.join("\n")}\n${codeHarness.describeScenario(scenario)}\nlog:\n${formatLog(log)}`).toEqual([]);
      }),
      settings(2),
    );
  });
});
