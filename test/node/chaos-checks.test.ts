import { describe, expect, it } from "vitest";
import type { LogRecord, RecordData, RecordType } from "../../core/records";
import { checkEvents, checkLedger, checkRegistry, checkSteps, contains } from "../chaos/checks";
import type { LedgerRow } from "../chaos/ledger-row";

/**
 * The chaos suite's rules (test/chaos/checks.ts) on logs written by hand:
 * each rule names what breaks it, and what a crash legitimately leaves (a
 * retry, a re-run after a lost result, a restart) passes.
 */

function logOf(...bodies: [RecordType, unknown][]): LogRecord[] {
  return bodies.map(([type, data], i) => ({ seq: i + 1, id: `r${i + 1}`, at: 1000 + i, type, data: data as RecordData[RecordType] }) as LogRecord);
}

const started = (key: string, attempt: number): [RecordType, unknown] => ["step.started", { key, attempt }];
const succeeded = (key: string, attempt: number): [RecordType, unknown] => ["step.succeeded", { key, attempt, output: 1 }];
const failedOnce = (key: string, attempt: number, name = "Error"): [RecordType, unknown] => ["step.attempt_failed", { key, attempt, error: { name, message: "no" } }];
const row = (key: string, attempt: number, outcome: LedgerRow["outcome"] = "returned", runs = 1): LedgerRow => ({ instance: "w/i", key, attempt, outcome, runs });

describe("checkSteps", () => {
  it("passes retries, a re-run after a crash lost the result, and a restart that starts steps again", () => {
    const log = logOf(started("a#1", 1), failedOnce("a#1", 1), started("a#1", 2), started("a#1", 3), succeeded("a#1", 3), ["instance.restarted", {}], started("a#1", 1), succeeded("a#1", 1));
    expect(checkSteps("w/i", log)).toEqual([]);
  });

  it("names a step started again after its result, with both records", () => {
    const log = logOf(started("a#1", 1), succeeded("a#1", 1), started("a#1", 2));
    const violations = checkSteps("w/i", log);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ instance: "w/i", rule: "step ran again", records: [log[1], log[2]] });
  });

  it("names an attempt number used twice, a result for an attempt not started last, and two results", () => {
    const log = logOf(started("a#1", 1), started("a#1", 1), started("b#1", 1), started("b#1", 2), succeeded("b#1", 1), succeeded("b#1", 1));
    expect(checkSteps("w/i", log).map((v) => v.rule)).toEqual(["attempt reused", "result of another attempt", "result of another attempt", "result recorded twice"]);
  });
});

describe("checkEvents", () => {
  const sent = [
    { key: "k1", type: "go", payload: { n: 1 } },
    { key: "k2", type: "go" },
  ];

  it("passes every event once, as sent", () => {
    expect(checkEvents("w/i", logOf(["event.received", { type: "go", payload: { n: 1 }, idempotencyKey: "k1" }], ["event.received", { type: "go", idempotencyKey: "k2" }]), sent)).toEqual([]);
  });

  it("names an event recorded twice, one lost, one changed and one nobody sent", () => {
    const log = logOf(
      ["event.received", { type: "go", payload: { n: 2 }, idempotencyKey: "k1" }],
      ["event.received", { type: "go", payload: { n: 2 }, idempotencyKey: "k1" }],
      ["event.received", { type: "go" }],
    );
    expect(checkEvents("w/i", log, sent).map((v) => v.rule)).toEqual(["event from nowhere", "event recorded twice", "event changed", "event lost"]);
  });
});

describe("checkLedger", () => {
  it("passes a body that ended before a kill lost its result, and counts it and the attempt cut off", () => {
    const log = logOf(started("a#1", 1), started("a#1", 2), started("a#1", 3), succeeded("a#1", 3), started("b#1", 1), failedOnce("b#1", 1), started("b#1", 2), succeeded("b#1", 2));
    const rows = [row("a#1", 1), row("a#1", 3), row("b#1", 1, "threw"), row("b#1", 2)];
    expect(checkLedger("w/i", log, rows)).toEqual({ violations: [], figures: { endedButLost: 1, cutOff: 1 } });
  });

  it("names a body that ended twice for one attempt, one for an attempt never started, and a result no body gave", () => {
    const log = logOf(started("a#1", 1), succeeded("a#1", 1), started("b#1", 1), succeeded("b#1", 1), started("c#1", 1), failedOnce("c#1", 1));
    const rows = [row("a#1", 1, "returned", 2), row("a#1", 2), row("c#1", 1, "returned")];
    expect(checkLedger("w/i", log, rows).violations.map((v) => v.rule)).toEqual(["body ran twice", "body ran unstarted", "result not the body's", "result without a body"]);
  });

  it("lets a timed-out attempt's body never end", () => {
    const log = logOf(started("a#1", 1), failedOnce("a#1", 1, "WorkflowTimeoutError"), started("a#1", 2), succeeded("a#1", 2));
    expect(checkLedger("w/i", log, [row("a#1", 2)]).violations).toEqual([]);
  });
});

describe("checkRegistry", () => {
  it("passes the same ids, statuses and counts", () => {
    const truth = new Map([["x", "complete" as const], ["y", "complete" as const]]);
    expect(checkRegistry("w", truth, [{ id: "x", status: "complete" }, { id: "y", status: "complete" }], { complete: 2, running: 0 })).toEqual([]);
  });

  it("names a missing id, a stale status, an id listed twice or not existing, and counts that differ", () => {
    const truth = new Map([["x", "complete" as const], ["y", "complete" as const]]);
    const listed = [{ id: "x", status: "waiting" as const }, { id: "x", status: "waiting" as const }, { id: "z", status: "complete" as const }];
    expect(checkRegistry("w", truth, listed, { complete: 1, waiting: 2 }).map((v) => `${v.instance} ${v.rule}`)).toEqual([
      "w/x listed twice",
      "w/z listed but absent",
      "w/x wrong status in list",
      "w/y missing from list",
      "w counts differ",
      "w counts differ",
    ]);
  });
});

it("contains compares objects by the fields expected, and arrays and values exactly", () => {
  expect(contains({ a: 1, b: [1, { c: 2, d: 3 }], e: 4 }, { a: 1, b: [1, { c: 2 }] })).toBe(true);
  expect(contains({ a: 1, b: [1, 2, 3] }, { b: [1, 2] })).toBe(false);
  expect(contains({ a: null }, { a: undefined })).toBe(false);
  expect(contains([1], { 0: 1 })).toBe(false);
});
