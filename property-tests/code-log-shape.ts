import type { LogRecord } from "../index";
import { currentRun, keysOf, type Scenario } from "./code-harness";

/**
 * What a well-formed code-first log is, checked record by record against the current run of the instance before
 * it (a restart cuts the run, as the engine's fold does): the rules property 3 states.
 */
const RESULTS = new Set(["step.succeeded", "step.failed", "step.attempt_failed"]);
const ENDINGS = new Set(["instance.completed", "instance.errored", "instance.terminated"]);

/** Everything wrong with a log's shape, as sentences; empty when it is well formed. */
export function malformations(log: readonly LogRecord[], scenario: Scenario): string[] {
  const problems: string[] = [];
  const handlers = new Set([...keysOf(scenario.program)].flatMap(([key, spec]) => (spec.rollback ? [key] : [])));
  log.forEach((record, i) => {
    if (record.seq !== i + 1) problems.push(`record ${i + 1} has seq ${record.seq}`);
  });
  if (log[0]?.type !== "instance.created") problems.push("the log does not begin with instance.created");
  if (log.filter((r) => r.type === "instance.created").length !== 1) problems.push("instance.created appears more than once");

  let before: LogRecord[] = [];
  for (const record of log) {
    // `run`: the current run of the instance as it stood before this record.
    const run = before;
    before = currentRun([...run, record]);
    if (record.type === "instance.restarted") continue;
    const at = `seq ${record.seq} (${record.type})`;
    const ending = run.find((r) => ENDINGS.has(r.type));
    if (ending) problems.push(`${at} comes after the run's ending at seq ${ending.seq}`);
    const data = record.data as { key?: string; attempt?: number };
    const starts = (type: string) => run.filter((r): r is LogRecord<"step.started"> => r.type === type && (r.data as { key?: string }).key === data.key);
    if (record.type === "step.started") {
      const saga = run.find((r) => r.type === "rollback.started");
      if (saga) problems.push(`${at}: ${data.key} starts during the rollback that began at seq ${saga.seq}`);
      const previous = starts("step.started").at(-1)?.data.attempt ?? 0;
      if (record.data.attempt !== previous + 1) problems.push(`${at}: ${data.key} attempt ${record.data.attempt} follows attempt ${previous}`);
      const result = run.find((r) => (r.type === "step.succeeded" || r.type === "step.failed") && r.data.key === data.key);
      if (result) problems.push(`${at}: ${data.key} starts again after its result at seq ${result.seq}`);
    }
    if (RESULTS.has(record.type)) {
      const latest = starts("step.started").at(-1);
      if (!latest || latest.data.attempt !== data.attempt) problems.push(`${at}: ${data.key} attempt ${data.attempt} is not the attempt the run last started (${latest?.data.attempt ?? "none"})`);
      const settled = run.find((r) => RESULTS.has(r.type) && r.type !== "step.attempt_failed" && (r.data as { key: string }).key === data.key);
      if (settled) problems.push(`${at}: ${data.key} already has its result at seq ${settled.seq}`);
      if (record.type !== "step.attempt_failed" && run.some((r) => r.type === record.type && (r.data as { key: string }).key === data.key)) problems.push(`${at}: a second ${record.type} for ${data.key}`);
    }
    if (ENDINGS.has(record.type) && record.type !== "instance.terminated") {
      const saga = run.find((r) => r.type === "rollback.started");
      if (saga && !run.some((r) => r.type === "rollback.completed" || r.type === "rollback.errored")) problems.push(`${at}: the run ends while its rollback (seq ${saga.seq}) is unfinished`);
    }
    if (record.type.startsWith("rollback.")) {
      const saga = run.find((r) => r.type === "rollback.started");
      if (record.type === "rollback.started") {
        if (saga) problems.push(`${at}: a second rollback.started in one run (first at seq ${saga.seq})`);
        continue;
      }
      if (!saga) {
        problems.push(`${at} comes before any rollback.started`);
        continue;
      }
      const finished = run.find((r) => r.type === "rollback.completed" || r.type === "rollback.errored");
      if (finished) problems.push(`${at} comes after the rollback finished at seq ${finished.seq}`);
    }
    if (record.type === "rollback.step.started") {
      const key = record.data.key;
      if (!handlers.has(key)) problems.push(`${at}: ${key} has no rollback handler`);
      const firstStart = run.find((r) => r.type === "step.started" && r.data.key === key);
      if (!firstStart) problems.push(`${at}: ${key} is rolled back but never started in this run`);
      const done = run.find((r) => (r.type === "rollback.step.succeeded" || r.type === "rollback.step.failed") && r.data.key === key);
      if (done) problems.push(`${at}: ${key} is rolled back again after seq ${done.seq}`);
      const previous = starts("rollback.step.started").at(-1)?.data.attempt ?? 0;
      if (record.data.attempt !== previous + 1) problems.push(`${at}: rollback of ${key} attempt ${record.data.attempt} follows attempt ${previous}`);
      // Newest first: every step rolled back before this one started after it.
      const earlier = run.filter((r): r is LogRecord<"rollback.step.started"> => r.type === "rollback.step.started" && r.data.key !== key);
      for (const other of earlier) {
        const otherStart = run.find((r) => r.type === "step.started" && r.data.key === other.data.key);
        if (firstStart && otherStart && otherStart.seq < firstStart.seq) problems.push(`${at}: ${key} (first started at seq ${firstStart.seq}) is rolled back after ${other.data.key} (first started at seq ${otherStart.seq})`);
      }
    }
    if (record.type === "rollback.step.succeeded" || record.type === "rollback.step.failed" || record.type === "rollback.step.attempt_failed") {
      const latest = run.filter((r) => r.type === "rollback.step.started").at(-1) as LogRecord<"rollback.step.started"> | undefined;
      if (latest?.data.key !== record.data.key) problems.push(`${at}: settles the rollback of ${record.data.key}, but the rollback under way is ${latest?.data.key ?? "none"}`);
    }
    if (record.type === "rollback.completed") {
      const started = new Set(run.flatMap((r) => (r.type === "step.started" && handlers.has(r.data.key) ? [r.data.key] : [])));
      const undone = new Set(run.flatMap((r) => (r.type === "rollback.step.succeeded" ? [r.data.key] : [])));
      const missed = [...started].filter((key) => !undone.has(key));
      if (missed.length) problems.push(`${at}: the rollback completed without undoing ${missed.join(", ")}, started with handlers`);
    }
  }
  return problems;
}


/**
 * The errors the programs can raise: a step body's (naming its own key), a step's or a wait's timeout, a sleepUntil
 * into the past, run()'s own throw, and what a terminate tells the rollback handlers.
 */
const PROGRAM_ERRORS: { name: string; message: RegExp }[] = [
  { name: "Error", message: /^do:[a-z]-\d+ failed$/ },
  { name: "NonRetryableError", message: /^do:[a-z]-\d+ refused$/ },
  { name: "WorkflowTimeoutError", message: /^Execution timed out after \d+ms$/ },
  { name: "Error", message: /^You can't sleep until a time in the past, time-traveler$/ },
  { name: "Error", message: /^the program ends by throwing after \d+ instructions$/ },
  { name: "Terminated", message: /^Instance terminated during rollback$/ },
];

/** Every error in the log that none of the program's bodies, timeouts or throws raised (an engine's own error leaking into the run). */
export function foreignErrors(log: readonly LogRecord[]): string[] {
  return log.flatMap((record) => {
    const { error, key } = record.data as { error?: { name: string; message: string }; key?: string };
    if (!error) return [];
    const known = PROGRAM_ERRORS.some((p) => p.name === error.name && p.message.test(error.message));
    const ownKey = !/^do:/.test(error.message) || !record.type.startsWith("step.") || error.message.startsWith(`${key} `);
    return known && ownKey ? [] : [`seq ${record.seq} (${record.type}${key ? ` ${key}` : ""}) records ${error.name}: ${error.message}, which the program never raised`];
  });
}
