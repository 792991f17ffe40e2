import { applyCodeRecord, foldCode, type CodeState } from "./code/fold";
import type { WorkflowDefinition } from "./definition";
import { applyRecord, fold } from "./fold";
import type { LogRecord } from "./records";
import type { InstanceState } from "./state";

/** What a bar stands for: a step attempt, the wait before a retry, a sleep or delayed transition, an event wait, a rollback or one of its handler's attempts, a pause. */
export type BarKind = "attempt" | "backoff" | "sleep" | "timer" | "wait" | "rollback" | "rollbackAttempt" | "pause";

/**
 * How a bar ended. `running`, `waiting` and `paused` are bars still open at
 * the timeline's end; `interrupted` ends what a crash (a later attempt of the
 * same step), a restart or the instance's end cut off; `stopped` a machine
 * step its state left before it settled.
 */
export type BarOutcome =
  | "succeeded"
  | "retrying"
  | "failed"
  | "interrupted"
  | "stopped"
  | "running"
  | "retried"
  | "fired"
  | "cancelled"
  | "received"
  | "timedOut"
  | "waiting"
  | "completed"
  | "errored"
  | "resumed"
  | "paused";

/** One span of an instance's time, as the dashboard draws it. */
export interface Bar {
  kind: BarKind;
  /** The log's key of what it spans: a step's key, a timer's id, a wait's key; "" for a rollback or a pause. */
  key: string;
  /** What a person is shown: the step's name and attempt, the sleep's name, the event waited for. */
  label: string;
  /** The step's attempt, for attempts and the backoffs before them. */
  attempt?: number;
  start: number;
  /** Never before `start`; for an open bar, the timeline's end. */
  end: number;
  open: boolean;
  outcome: BarOutcome;
  /** When it was due, where the log says: a sleep's or timer's due time, a wait's timeout, a retry's time. */
  dueAt?: number;
  /** The seq of the record that began the bar, and of the one that ended it. */
  startSeq: number;
  endSeq?: number;
}

/** Which fold the log is read with: a code-first (or Python) run's, or a machine's (a DAG is one), whose definition says which steps a state change stopped. */
export type TimelineForm = { kind: "code" } | { kind: "machine"; definition?: WorkflowDefinition };

export interface TimelineOptions {
  /** Where open bars end: the time now, when the instance still runs; the last record's time when not given. */
  now?: number;
}

/**
 * A readable name for a key: a code-first key `do:charge card-2` reads
 * "charge card (2)" (its second call of that name), a machine's invoke key
 * `0.checkout.charge#3` reads "0.checkout.charge" (its generation is not the
 * user's business).
 */
export function keyLabel(key: string): string {
  const code = /^(?:do|sleep|waitForEvent):(.*)-(\d+)$/.exec(key);
  if (code) return code[2] === "1" ? code[1]! : `${code[1]} (${code[2]})`;
  return key.replace(/#\d+$/, "");
}

/**
 * A machine's delayed transition (`xstate.after.<ms or delay name>.<state id>`) reads "after 500 ms in
 * checkout.cooling", or with a named delay (setup({ delays })) "after grace (90000 ms) in reminder.waiting";
 * another timer by its id. `format` writes the delay (the dashboard's "1 min").
 */
export function timerLabel(id: string, delay: number, format: (ms: number) => string = (ms) => `${ms} ms`): string {
  const after = /^xstate\.after\.(\d+(?:\.\d+)?|[^.]+)\.(.*)$/.exec(keyLabel(id));
  if (!after) return `timer ${keyLabel(id)}`;
  const ms = format(Math.max(0, delay));
  return /^\d/.test(after[1]!) ? `after ${ms} in ${after[2]}` : `after ${after[1]} (${ms}) in ${after[2]}`;
}

/**
 * The bars of an instance's log over time: every step attempt (from its
 * step.started to its result, or to what cut it off), every backoff between
 * a failed attempt and the next, every sleep and delayed transition, every
 * event wait (until its event or its timeout), the rollback and each of its
 * handlers' attempts, and every pause. Pure: the log (and the machine's
 * definition, where there is one) say it all; which event answered a
 * code-first wait is read from the same fold that replays it. Each
 * step.started and rollback.step.started record has exactly one bar.
 */
export function timeline(records: readonly LogRecord[], form: TimelineForm, options: TimelineOptions = {}): Bar[] {
  const bars: Bar[] = [];
  const open = new Map<string, Bar>();
  const slot = (kind: BarKind, key: string) => `${kind}\u0000${key}`;
  const begin = (bar: Omit<Bar, "end" | "open">) => {
    bars.push({ ...bar, end: bar.start, open: true });
    open.set(slot(bar.kind, bar.key), bars.at(-1)!);
  };
  const close = (kind: BarKind, key: string, record: LogRecord, outcome: BarOutcome) => {
    const bar = open.get(slot(kind, key));
    if (!bar) return undefined;
    open.delete(slot(kind, key));
    Object.assign(bar, { end: Math.max(bar.start, record.at), open: false, outcome, endSeq: record.seq });
    return bar;
  };
  const closeAll = (record: LogRecord, outcome: BarOutcome) => {
    for (const bar of [...open.values()]) close(bar.kind, bar.key, record, outcome);
  };
  /** The bar of the attempt a step.failed ends: still open, or already closed by the step.attempt_failed written just before. */
  const lastAttempt = (kind: "attempt" | "rollbackAttempt", key: string) => bars.findLast((bar) => bar.kind === kind && bar.key === key);
  const follow = follower(records, form);

  for (const record of records) {
    const { at, seq } = record;
    switch (record.type) {
      case "step.started":
      case "rollback.step.started": {
        const kind = record.type === "step.started" ? "attempt" : "rollbackAttempt";
        const { key, attempt } = record.data;
        close(kind, key, record, "interrupted");
        close("backoff", `${kind}:${key}`, record, "retried");
        begin({ kind, key, label: `${kind === "attempt" ? "" : "rollback "}${keyLabel(key)} · attempt ${attempt}`, attempt, start: at, outcome: "running", startSeq: seq });
        break;
      }
      case "step.attempt_failed":
      case "rollback.step.attempt_failed": {
        const kind = record.type === "step.attempt_failed" ? "attempt" : "rollbackAttempt";
        const { key, attempt, retryAt } = record.data;
        if (open.get(slot(kind, key))?.attempt !== attempt) break;
        close(kind, key, record, retryAt === undefined ? "failed" : "retrying");
        if (retryAt !== undefined) {
          // Keyed by what it waits to retry: a step's attempt or a rollback handler's.
          begin({ kind: "backoff", key: `${kind}:${key}`, label: `${kind === "attempt" ? "" : "rollback "}${keyLabel(key)} · retry ${attempt + 1}`, attempt: attempt + 1, start: at, outcome: "waiting", dueAt: retryAt, startSeq: seq });
        }
        break;
      }
      case "step.succeeded":
        if (open.get(slot("attempt", record.data.key))?.attempt === record.data.attempt) close("attempt", record.data.key, record, "succeeded");
        break;
      case "step.failed": {
        if (open.get(slot("attempt", record.data.key))?.attempt === record.data.attempt) close("attempt", record.data.key, record, "failed");
        else {
          const bar = lastAttempt("attempt", record.data.key);
          if (bar?.attempt === record.data.attempt && bar.outcome === "retrying") bar.outcome = "failed";
        }
        break;
      }
      case "rollback.step.succeeded":
        close("rollbackAttempt", record.data.key, record, "succeeded");
        break;
      case "rollback.step.failed": {
        if (!close("rollbackAttempt", record.data.key, record, "failed")) {
          const bar = lastAttempt("rollbackAttempt", record.data.key);
          if (bar?.outcome === "retrying") bar.outcome = "failed";
        }
        close("backoff", `rollbackAttempt:${record.data.key}`, record, "failed");
        break;
      }
      case "timer.started": {
        const { id, dueAt } = record.data;
        const sleep = id.startsWith("sleep:");
        begin({ kind: sleep ? "sleep" : "timer", key: id, label: sleep ? keyLabel(id) : timerLabel(id, dueAt - at), start: at, outcome: "waiting", dueAt, startSeq: seq });
        break;
      }
      case "timer.fired":
        close("sleep", record.data.id, record, "fired") ?? close("timer", record.data.id, record, "fired") ?? close("wait", record.data.id, record, "timedOut");
        break;
      case "timer.cancelled":
        close("timer", record.data.id, record, "cancelled");
        break;
      case "wait.started":
        begin({ kind: "wait", key: record.data.key, label: `${keyLabel(record.data.key)}: waiting for "${record.data.type}"`, start: at, outcome: "waiting", dueAt: record.data.dueAt, startSeq: seq });
        break;
      case "rollback.started":
        if (!open.has(slot("rollback", ""))) begin({ kind: "rollback", key: "", label: `rollback (${record.data.trigger === "terminate" ? "on terminate" : record.data.error.message})`, start: at, outcome: "running", startSeq: seq });
        break;
      case "rollback.completed":
        close("rollback", "", record, "completed");
        break;
      case "rollback.errored":
        close("rollback", "", record, "errored");
        break;
      case "instance.paused":
        if (!open.has(slot("pause", ""))) begin({ kind: "pause", key: "", label: "paused", start: at, outcome: "paused", startSeq: seq });
        break;
      case "instance.resumed":
        close("pause", "", record, "resumed");
        break;
      case "instance.restarted":
      case "instance.terminated":
        closeAll(record, "interrupted");
        break;
      case "instance.completed":
      case "instance.errored":
        // A machine's saga ends with its instance; anything else still open was cut off by the ending.
        close("rollback", "", record, record.type === "instance.completed" ? "completed" : "errored");
        closeAll(record, "interrupted");
        break;
    }
    for (const [key, outcome] of follow(record)) {
      close("wait", key, record, outcome) ?? close("attempt", key, record, outcome) ?? close("backoff", `attempt:${key}`, record, outcome);
    }
  }
  const last = Math.max(options.now ?? -Infinity, records.at(-1)?.at ?? -Infinity);
  for (const bar of open.values()) bar.end = Math.max(bar.start, last);
  return bars;
}

/**
 * What only the fold knows, record by record: the code-first waits an event
 * answered (an event can arrive before its wait, or be held by a pause), and
 * the machine steps a state change stopped without a result. Returns, after
 * each record, the keys that ended so and how.
 */
function follower(records: readonly LogRecord[], form: TimelineForm): (record: LogRecord) => [string, BarOutcome][] {
  // The newest records of a long log (all a page may hold) cannot be folded: they do not start with the creation.
  if (records[0] !== undefined && records[0].type !== "instance.created") return form.kind === "code" ? eventMatcher() : () => [];
  if (form.kind === "code") {
    let state: CodeState | undefined;
    const context = { stateBefore: (seq: number) => foldCode(records.filter((r) => r.seq < seq)) };
    const waiting = new Set<string>();
    return (record) => {
      state = applyCodeRecord(state, record, context);
      if (record.type === "wait.started") waiting.add(record.data.key);
      const answered: [string, BarOutcome][] = [];
      for (const key of waiting) {
        const outcome = state.book.waits[key]?.outcome;
        if (outcome && "event" in outcome) answered.push([key, "received"]);
        if (outcome || !state.book.waits[key]) waiting.delete(key);
      }
      return answered;
    };
  }
  const def = form.definition;
  if (!def) return () => [];
  let state: InstanceState | undefined;
  const context = { stateBefore: (seq: number) => fold(def, records.filter((r) => r.seq < seq)) };
  return (record) => {
    const before = state ? Object.keys(state.book.steps) : [];
    state = applyRecord(def, state, record, context).state;
    const settled = "key" in record.data && (record.type === "step.succeeded" || record.type === "step.failed") ? record.data.key : undefined;
    return before.filter((key) => key !== settled && !Object.hasOwn(state!.book.steps, key)).map((key) => [key, "stopped"]);
  };
}

/**
 * Without the fold, a code-first wait is taken to end at the first event of
 * its type written after it: what happens unless an event came first and
 * was held for it, which only the fold tells.
 */
function eventMatcher(): (record: LogRecord) => [string, BarOutcome][] {
  const waiting = new Map<string, string>();
  return (record) => {
    if (record.type === "wait.started") waiting.set(record.data.key, record.data.type);
    if (record.type === "timer.fired") waiting.delete(record.data.id);
    if (record.type !== "event.received") return [];
    const answered = [...waiting].find(([, type]) => type === record.data.type);
    if (!answered) return [];
    waiting.delete(answered[0]);
    return [[answered[0], "received"]];
  };
}
