import { codeStatusName, codeWaitingOn } from "./code/status";
import type { CodeState, StepResult } from "./code/fold";
import { utf8Length, type Json } from "./json";
import type { ErrorInfo } from "./records";
import type { InstanceState, StepPhase } from "./state";
import { publicError, statusOf, type InstanceStatusName } from "./status";

/**
 * The most JSON an instant's stored values (a machine's context, a code-first
 * run's step outputs) take, in UTF-8 bytes: the history's page budget, so an
 * instant crosses workerd's 32 MiB RPC limit with the same room to spare. A
 * value past it is left out and flagged; the log's own pages carry it.
 */
export const INSTANT_BYTES = 4 * 1024 * 1024;

interface InstantBase {
  /** The record the instance is shown after, and its time. */
  seq: number;
  at: number;
  status: InstanceStatusName;
  output?: Json;
  error?: { name: string; message: string };
}

/** A machine (a DAG is one) after a record: the state value the diagram lights, its context, and what it waits on. */
export interface MachineInstant extends InstantBase {
  kind: "machine";
  value: Json;
  /** Absent, with `contextOmitted`, when its JSON is larger than INSTANT_BYTES. */
  context?: Json;
  contextOmitted?: true;
  steps: { key: string; src: string; attempt: number; phase: StepPhase; retryAt?: number }[];
  timers: { id: string; dueAt: number }[];
}

/** A settled step of a code-first run; a sensitive output shows as "[REDACTED]", as it does in the log. */
export type StepOutcome =
  | { key: string; ok: true; output?: Json; streamed?: true; outputOmitted?: true }
  | { key: string; ok: false; error: { name: string; message: string } };

/** A code-first run (a Python one is one) after a record: its steps' results so far, in the order they settled, and what it waits on. */
export interface CodeInstant extends InstantBase {
  kind: "code";
  results: StepOutcome[];
  /** The open step, sleep and event-wait keys, as status() names them. */
  waitingOn: string[];
}

/** An instance as it stood after one record of its log: what time travel shows. */
export type Instant = MachineInstant | CodeInstant;

const jsonBytes = (value: Json | undefined) => (value === undefined ? 0 : utf8Length(JSON.stringify(value)));

/** A machine's folded state, shown. */
export function machineInstant(state: InstanceState): MachineInstant {
  const { status, value, output, error } = statusOf(state);
  const context = state.machine.context as Json | undefined;
  const fits = jsonBytes(context) + jsonBytes(output) <= INSTANT_BYTES;
  return {
    kind: "machine",
    seq: state.seq,
    at: state.at,
    status,
    ...(output === undefined ? {} : { output }),
    ...(error === undefined ? {} : { error }),
    value,
    ...(fits ? (context === undefined ? {} : { context }) : { contextOmitted: true }),
    steps: Object.values(state.book.steps).map(({ key, src, attempt, phase, retryAt }) => ({ key, src, attempt, phase, ...(retryAt === undefined ? {} : { retryAt }) })),
    timers: Object.values(state.book.timers).map(({ id, dueAt }) => ({ id, dueAt })),
  };
}

/** A code-first run's folded state, shown: step outputs in the order they settled, until they fill INSTANT_BYTES. */
export function codeInstant(state: CodeState): CodeInstant {
  const { book } = state;
  const ended = book.ended;
  const output = ended?.status === "complete" ? ended.output : undefined;
  let budget = INSTANT_BYTES - jsonBytes(output);
  const results = Object.entries(book.results).map(([key, result]) => {
    const shown = outcome(key, result);
    if (!shown.ok || shown.output === undefined) return shown;
    budget -= jsonBytes(shown.output);
    if (budget >= 0) return shown;
    const { output: _omitted, ...rest } = shown;
    return { ...rest, outputOmitted: true as const };
  });
  return {
    kind: "code",
    seq: state.seq,
    at: state.at,
    status: codeStatusName(book),
    ...(output === undefined ? {} : { output }),
    ...(ended?.status === "errored" ? { error: publicError(ended.error) } : {}),
    results,
    waitingOn: codeWaitingOn(book),
  };
}

function outcome(key: string, result: StepResult): StepOutcome {
  if (!result.ok) return { key, ok: false, error: publicError(result.error as ErrorInfo) };
  if ("stream" in result) return { key, ok: true, streamed: true };
  if (result.sensitive) return { key, ok: true, output: "[REDACTED]" };
  return { key, ok: true, ...(result.output === undefined ? {} : { output: result.output }) };
}
