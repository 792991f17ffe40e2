import type { LogRecord } from "../../core/records";
import type { InstanceStatusName } from "../../core/status";
import type { LedgerRow } from "./ledger-row";

/**
 * The promises the chaos run checks, as pure functions of what it read
 * back: each instance's whole log, the step ledger, the registry's list and
 * counts. Each answers the violations it finds, naming the instance and
 * the records that break the rule.
 */

export interface Violation {
  /** `<workflow>/<instance id>`, or the workflow for registry rules. */
  instance: string;
  rule: string;
  detail: string;
  records?: unknown[];
}

type StepOutcome = LogRecord<"step.succeeded" | "step.failed" | "step.attempt_failed">;

const isOutcome = (record: LogRecord): record is StepOutcome => record.type === "step.succeeded" || record.type === "step.failed" || record.type === "step.attempt_failed";

/**
 * No recorded step runs again: within a run (a restart begins a new one),
 * once a key's result is recorded (`step.succeeded`, or `step.failed` for
 * good) no `step.started` for it follows. Retries start again legitimately,
 * after `step.attempt_failed`, each with a higher attempt number; a result
 * belongs to the attempt started last.
 */
export function checkSteps(instance: string, log: readonly LogRecord[]): Violation[] {
  const violations: Violation[] = [];
  let results = new Map<string, LogRecord>();
  let latest = new Map<string, LogRecord<"step.started">>();
  for (const record of log) {
    if (record.type === "instance.restarted") {
      results = new Map();
      latest = new Map();
    } else if (record.type === "step.started") {
      const { key, attempt } = record.data;
      const result = results.get(key);
      if (result) violations.push({ instance, rule: "step ran again", detail: `step "${key}" started again (attempt ${attempt}) after its result was recorded`, records: [result, record] });
      const before = latest.get(key);
      if (before && before.data.attempt >= attempt) violations.push({ instance, rule: "attempt reused", detail: `step "${key}" started attempt ${attempt} after attempt ${before.data.attempt}`, records: [before, record] });
      latest.set(key, record);
    } else if (isOutcome(record)) {
      const { key, attempt } = record.data;
      const started = latest.get(key);
      if (!started || started.data.attempt !== attempt) {
        violations.push({ instance, rule: "result of another attempt", detail: `step "${key}" recorded a result for attempt ${attempt}; the attempt started last is ${started?.data.attempt ?? "none"}`, records: [started, record] });
      }
      if (record.type !== "step.attempt_failed") {
        const result = results.get(key);
        if (result) violations.push({ instance, rule: "result recorded twice", detail: `step "${key}" has two results`, records: [result, record] });
        results.set(key, record);
      }
    }
  }
  return violations;
}

/** Every event the run sent is in the log once, by its idempotency key, as it was sent; nothing else came in. */
export function checkEvents(instance: string, log: readonly LogRecord[], sent: readonly { key: string; type: string; payload?: unknown }[]): Violation[] {
  const violations: Violation[] = [];
  const received = log.filter((record): record is LogRecord<"event.received"> => record.type === "event.received");
  const byKey = new Map<string, LogRecord<"event.received">[]>();
  for (const record of received) {
    const key = record.data.idempotencyKey;
    if (key === undefined || !sent.some((event) => event.key === key)) {
      violations.push({ instance, rule: "event from nowhere", detail: `the log holds an event the run never sent (key ${JSON.stringify(key)})`, records: [record] });
      continue;
    }
    byKey.set(key, [...(byKey.get(key) ?? []), record]);
  }
  for (const event of sent) {
    const records = byKey.get(event.key) ?? [];
    if (records.length === 0) violations.push({ instance, rule: "event lost", detail: `event ${event.key} (${event.type}) is not in the log` });
    if (records.length > 1) violations.push({ instance, rule: "event recorded twice", detail: `event ${event.key} is in the log ${records.length} times`, records });
    const [record] = records;
    if (record && (record.data.type !== event.type || JSON.stringify(record.data.payload) !== JSON.stringify(event.payload))) {
      violations.push({ instance, rule: "event changed", detail: `event ${event.key} was sent as ${JSON.stringify({ type: event.type, payload: event.payload })}`, records: [record] });
    }
  }
  return violations;
}

export interface LedgerFigures {
  /** Attempts whose body ended (the ledger counted it) but whose result a kill lost: run again, at least once, as promised. */
  endedButLost: number;
  /** Attempts started whose body never ended: cut off by a kill before it finished (or before it began). */
  cutOff: number;
}

/**
 * Step bodies against the log: a body runs only for an attempt the log
 * started, each attempt's body ends at most once, and every result the log
 * records came from a body that ended that way (a timeout aside, which
 * records a failure while the body may still run). So no key's body ended
 * more often than the log started it.
 */
export function checkLedger(instance: string, log: readonly LogRecord[], rows: readonly LedgerRow[]): { violations: Violation[]; figures: LedgerFigures } {
  const violations: Violation[] = [];
  const started = new Map<string, LogRecord<"step.started">>();
  const outcomes = new Map<string, StepOutcome>();
  const at = (key: string, attempt: number) => `${key}@${attempt}`;
  for (const record of log) {
    if (record.type === "step.started") started.set(at(record.data.key, record.data.attempt), record);
    if (isOutcome(record)) outcomes.set(at(record.data.key, record.data.attempt), record);
  }
  const runs = new Map<string, LedgerRow[]>();
  for (const row of rows) runs.set(at(row.key, row.attempt), [...(runs.get(at(row.key, row.attempt)) ?? []), row]);

  let endedButLost = 0;
  for (const [attempt, counted] of runs) {
    const total = counted.reduce((sum, row) => sum + row.runs, 0);
    const start = started.get(attempt);
    const outcome = outcomes.get(attempt);
    if (!start) violations.push({ instance, rule: "body ran unstarted", detail: `the body of ${attempt} ended ${total} time(s) but the log never started that attempt`, records: counted });
    if (total > 1) violations.push({ instance, rule: "body ran twice", detail: `the body of ${attempt} ran to its end ${total} times`, records: [start, ...counted] });
    if (!outcome && start) endedButLost++;
    if (outcome) {
      const returned = counted.some((row) => row.outcome === "returned");
      if ((outcome.type === "step.succeeded") !== returned) {
        violations.push({ instance, rule: "result not the body's", detail: `the log records ${outcome.type} for ${attempt}, the ledger says the body ${counted.map((row) => row.outcome).join(", ")}`, records: [outcome, ...counted] });
      }
    }
  }
  let cutOff = 0;
  for (const [attempt, start] of started) {
    if (runs.has(attempt)) continue;
    const outcome = outcomes.get(attempt);
    if (!outcome) cutOff++;
    else if (!(outcome.type !== "step.succeeded" && outcome.data.error.name === "WorkflowTimeoutError")) {
      violations.push({ instance, rule: "result without a body", detail: `the log records ${outcome.type} for ${attempt} but its body never ended`, records: [start, outcome] });
    }
  }
  return { violations, figures: { endedButLost, cutOff } };
}

/** True when `actual` holds everything in `expected`: objects by the fields `expected` lists, arrays and other values exactly. */
export function contains(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => contains(actual[i], item));
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, value]) => contains((actual as Record<string, unknown>)[key], value));
  }
  return Object.is(actual, expected);
}

/**
 * The registry against the instances that exist: the same ids in `list`
 * (all pages), each with its status, and `counts` the same numbers per
 * status.
 */
export function checkRegistry(
  workflow: string,
  truth: ReadonlyMap<string, InstanceStatusName>,
  listed: readonly { id: string; status: InstanceStatusName }[],
  counts: Readonly<Record<string, number>>,
): Violation[] {
  const violations: Violation[] = [];
  const seen = new Map<string, InstanceStatusName>();
  for (const entry of listed) {
    if (seen.has(entry.id)) violations.push({ instance: `${workflow}/${entry.id}`, rule: "listed twice", detail: "the id is on more than one page of list" });
    seen.set(entry.id, entry.status);
    if (!truth.has(entry.id)) violations.push({ instance: `${workflow}/${entry.id}`, rule: "listed but absent", detail: `list shows it ${entry.status}; it does not exist` });
  }
  const expectedCounts = new Map<string, number>();
  for (const [id, status] of truth) {
    expectedCounts.set(status, (expectedCounts.get(status) ?? 0) + 1);
    const listedStatus = seen.get(id);
    if (listedStatus === undefined) violations.push({ instance: `${workflow}/${id}`, rule: "missing from list", detail: `the instance exists (${status}) but list does not show it` });
    else if (listedStatus !== status) violations.push({ instance: `${workflow}/${id}`, rule: "wrong status in list", detail: `list shows ${listedStatus}, the instance is ${status}` });
  }
  for (const status of new Set([...Object.keys(counts), ...expectedCounts.keys()])) {
    const expected = expectedCounts.get(status) ?? 0;
    if ((counts[status] ?? 0) !== expected) violations.push({ instance: workflow, rule: "counts differ", detail: `counts says ${counts[status] ?? 0} ${status}, ${expected} exist` });
  }
  return violations;
}
