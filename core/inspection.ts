import type { AnyWorkflowDefinition } from "./definition";
import { applyCodeRecord, type CodeState } from "./code/fold";
import { applyRecord } from "./fold";
import type { Json } from "./json";
import { redacted, type LogRecord } from "./records";
import type { InstanceState } from "./state";
import { get } from "./table";

/**
 * The inspection protocol of `@statelyai/inspect` (its `StatelyInspectionEvent`
 * union), written out here so the core needs no dependency on it.
 */
interface Base {
  rootId: string | undefined;
  sessionId: string;
  createdAt: string;
  id: string;
  _version: string;
}

export interface InspectedSnapshot {
  status?: "active" | "done" | "error" | "stopped";
  value?: Json;
  context?: Json;
  output?: Json;
  error?: Json;
}

export type InspectionEvent =
  | (Base & { type: "@xstate.actor"; name: string; snapshot: InspectedSnapshot; definition: string | undefined; parentId: string | undefined })
  | (Base & { type: "@xstate.event"; event: { type: string } & Record<string, unknown>; sourceId: string | undefined })
  | (Base & { type: "@xstate.snapshot"; event: { type: string } & Record<string, unknown>; snapshot: InspectedSnapshot });

const VERSION = "0.7.2";

/** A named delay's length as a diagram can draw it: its milliseconds, or "computed" when a function gives it. */
export type DelayLength = number | "computed";

/**
 * The named delays of setup({ delays }), which the config's `after` names
 * without their lengths: a number as it is, a function as "computed" (its
 * length depends on the context and event at run time).
 */
export function namedDelays(delays: Record<string, unknown> | undefined): Record<string, DelayLength> {
  const lengths: Record<string, DelayLength> = {};
  for (const [name, delay] of Object.entries(delays ?? {})) {
    if (typeof delay === "function") lengths[name] = "computed";
    else if (typeof delay === "number" && Number.isFinite(delay)) lengths[name] = delay;
  }
  return lengths;
}

/**
 * A machine config as JSON the inspector can draw: functions become `{ type: <name> }`, as the inspector's own
 * serializer does. The config's `after` names a delay of setup({ delays }) without its length, so the root also
 * carries `delays` (name → milliseconds, or "computed") when the machine has any; XState and Stately's inspector
 * ignore the key. A code-first run has no states of its own: it is given as its lifecycle, marked `meta: { run: "code" }`.
 */
export function definitionOf(def: AnyWorkflowDefinition): string {
  if (def.kind === "code") {
    // meta.run tells a viewer the run is code, whose steps (not these lifecycle states) make its graph: the dashboard draws them from the step history.
    return JSON.stringify({ id: def.name, initial: "running", meta: { run: "code" }, states: { running: {}, complete: { type: "final" }, errored: { type: "final" }, terminated: { type: "final" } } });
  }
  const delays = namedDelays(def.machine.implementations.delays as Record<string, unknown> | undefined);
  const config = Object.keys(delays).length ? { ...def.machine.config, delays } : def.machine.config;
  return JSON.stringify(config, (_key, value: unknown) => (typeof value === "function" ? { type: (value as { name?: string }).name || "anonymous" } : value));
}

function machineSnapshot(state: InstanceState): InspectedSnapshot {
  const ended = state.book.ended;
  const status = ended?.status === "complete" ? "done" : ended?.status === "errored" ? "error" : ended?.status === "terminated" ? "stopped" : "active";
  return {
    status,
    value: state.machine.value as Json,
    context: state.machine.context as Json,
    ...(ended?.status === "complete" && ended.output !== undefined ? { output: ended.output } : {}),
    ...(ended?.status === "errored" ? { error: { ...ended.error } } : {}),
  };
}

function codeSnapshot(state: CodeState): InspectedSnapshot {
  const { ended, steps, sleeps, waits } = state.book;
  const status = ended?.status === "complete" ? "done" : ended?.status === "errored" ? "error" : ended?.status === "terminated" ? "stopped" : "active";
  const open = [...Object.keys(steps), ...Object.entries(sleeps).flatMap(([k, s]) => (s.done ? [] : [k])), ...Object.entries(waits).flatMap(([k, w]) => (w.outcome ? [] : [k]))];
  return {
    status,
    value: ended ? ended.status : "running",
    context: { waitingOn: open, results: Object.keys(state.book.results).length },
    ...(ended?.status === "complete" && ended.output !== undefined ? { output: ended.output } : {}),
    ...(ended?.status === "errored" ? { error: { ...ended.error } } : {}),
  };
}

/** The event a record put to the machine, as the machine saw it; undefined for bookkeeping records. */
function machineEvent(before: InspectedState | undefined, record: LogRecord): ({ type: string } & Record<string, unknown>) | undefined {
  switch (record.type) {
    case "instance.created":
      return { type: "xstate.init", input: record.data.params ?? null };
    case "step.succeeded":
    case "step.failed": {
      const invokeId = before && "machine" in before ? get(before.book.steps, record.data.key)?.invokeId : undefined;
      const actor = invokeId ?? record.data.key;
      return record.type === "step.succeeded"
        ? { type: `xstate.done.actor.${actor}`, output: record.data.output ?? null, actorId: actor }
        : { type: `xstate.error.actor.${actor}`, error: record.data.error, actorId: actor };
    }
    case "timer.fired": {
      const timer = before && "machine" in before ? Object.values(before.book.timers).find((t) => t.id === record.data.id) : undefined;
      return timer ? { ...timer.event } : { type: `timer.fired`, id: record.data.id };
    }
    case "event.received":
      return { type: record.data.type, payload: record.data.payload ?? null };
    case "instance.completed":
    case "instance.errored":
      // A machine's ending is its last input's snapshot; a code-first run's ending is this record.
      return before && "machine" in before ? undefined : { type: record.type };
    case "instance.paused":
    case "instance.resumed":
    case "instance.terminated":
    case "instance.restarted":
      return { type: `instance.${record.type.split(".")[1]}` };
    default:
      return undefined;
  }
}

/** What inspection folds a log to: a machine's state, or a code-first run's. */
export type InspectedState = InstanceState | CodeState;

export interface InspectionStreamOptions {
  /** Where the stream starts: the state after the record before the first one pushed (a fresh instance without it). */
  state?: InspectedState;
  /**
   * The state after every record before `seq`, which a restart from a step
   * needs. A host gives it from its snapshots and log; without it, the
   * stream keeps every record pushed to fold them again, so it suits a
   * whole history that is in memory anyway.
   */
  stateBefore?: (seq: number) => InspectedState;
}

/**
 * Turns an instance's log into the events `@statelyai/inspect` speaks: the
 * instance as the root actor (with its machine's definition), every step as
 * a child actor, and for every machine input the event and the snapshot after
 * it. Records are pushed in order, in any number of batches, so a live
 * stream can carry on from where its history ended. It holds the folded
 * state and nothing else, when it is given `stateBefore`.
 */
export class InspectionStream {
  private state: InspectedState | undefined;
  private readonly seen: LogRecord[] | undefined;
  private readonly context: { stateBefore: (seq: number) => never };

  constructor(
    private readonly def: AnyWorkflowDefinition,
    options: InspectionStreamOptions = {},
  ) {
    this.state = options.state;
    this.seen = options.stateBefore ? undefined : [];
    const stateBefore = options.stateBefore ?? ((seq: number) => foldAll(def, this.seen!.filter((r) => r.seq < seq)));
    this.context = { stateBefore: (seq) => stateBefore(seq) as never };
  }

  /** The seq of the last record pushed. */
  get seq(): number {
    return this.state?.seq ?? 0;
  }

  push(records: readonly LogRecord[]): InspectionEvent[] {
    const events: InspectionEvent[] = [];
    const { def } = this;
    for (const record of records) {
      if (record.seq <= this.seq) continue;
      this.seen?.push(record);
      const before = this.state;
      // A code-first state folds in place, and nothing here needs it from before the record.
      const after: InspectedState =
        def.kind === "code" ? applyCodeRecord(before as CodeState | undefined, record, this.context) : applyRecord(def, before as InstanceState | undefined, record, this.context).state;
      this.state = after;
      events.push(...eventsOf(def, def.kind === "code" ? undefined : before, after, redacted(record)));
    }
    return events;
  }

  /**
   * The instance as it stands, for a client that joins late: the root actor
   * with its definition and its current snapshot, and an actor for each step
   * still under way. Nothing when no record has been pushed or given.
   */
  announce(): InspectionEvent[] {
    const { def, state } = this;
    if (!state) return [];
    const root = state.book.instanceId;
    const base = (n: number): Base => ({ rootId: root, sessionId: root, createdAt: String(state.at), id: `${root}@${state.seq}:${n}`, _version: VERSION });
    const snapshot = def.kind === "code" ? codeSnapshot(state as CodeState) : machineSnapshot(state as InstanceState);
    const events: InspectionEvent[] = [{ ...base(0), type: "@xstate.actor", name: def.kind === "code" ? def.name : (def.machine.id as string), snapshot, definition: definitionOf(def), parentId: undefined }];
    const open =
      def.kind === "code"
        ? Object.keys((state as CodeState).book.steps).map((key) => ({ key, name: key, input: undefined }))
        : Object.values((state as InstanceState).book.steps).map((entry) => ({ key: entry.key, name: entry.src, input: entry.input }));
    for (const [i, step] of open.entries()) {
      events.push({
        ...base(i + 1),
        sessionId: `${root}/${step.key}`,
        type: "@xstate.actor",
        name: step.name,
        snapshot: { status: "active", ...(step.input === undefined ? {} : { context: { input: step.input } }) },
        definition: undefined,
        parentId: root,
      });
    }
    return events;
  }
}

function eventsOf(def: AnyWorkflowDefinition, before: InspectedState | undefined, state: InspectedState, record: LogRecord): InspectionEvent[] {
  const events: InspectionEvent[] = [];
  const root = state.book.instanceId;
  const base = (n: number): Base => ({ rootId: root, sessionId: root, createdAt: String(record.at), id: `${record.id}:${n}`, _version: VERSION });
  const snapshot = def.kind === "code" ? codeSnapshot(state as CodeState) : machineSnapshot(state as InstanceState);
  if (record.type === "instance.created") {
    events.push({ ...base(0), type: "@xstate.actor", name: def.kind === "code" ? def.name : (def.machine.id as string), snapshot, definition: definitionOf(def), parentId: undefined });
  }
  if (record.type === "step.started" && record.data.attempt === 1) {
    const entry = "machine" in state ? get((state as InstanceState).book.steps, record.data.key) : undefined;
    events.push({
      ...base(1),
      sessionId: `${root}/${record.data.key}`,
      type: "@xstate.actor",
      name: entry?.src ?? record.data.key,
      snapshot: { status: "active", ...(entry?.input === undefined ? {} : { context: { input: entry.input } }) },
      definition: undefined,
      parentId: root,
    });
  }
  if (record.type === "step.succeeded" || record.type === "step.failed") {
    events.push({
      ...base(2),
      sessionId: `${root}/${record.data.key}`,
      type: "@xstate.snapshot",
      event: { type: record.type },
      snapshot: record.type === "step.succeeded" ? { status: "done", output: record.data.output ?? null } : { status: "error", error: { ...record.data.error } },
    });
  }
  const event = machineEvent(before, record);
  if (!event) return events;
  const sourceId = record.type === "step.succeeded" || record.type === "step.failed" ? `${root}/${record.data.key}` : undefined;
  events.push({ ...base(3), type: "@xstate.event", event, sourceId });
  events.push({ ...base(4), type: "@xstate.snapshot", event, snapshot });
  return events;
}

/** Every inspection event of a whole log. */
export function inspectionEvents(def: AnyWorkflowDefinition, log: readonly LogRecord[]): InspectionEvent[] {
  return new InspectionStream(def, { stateBefore: (seq) => foldAll(def, log.filter((r) => r.seq < seq)) }).push(log);
}

/** Anything that takes Stately inspection events: the inspectors `@statelyai/inspect` creates all have this adapter. */
export interface InspectorLike {
  /** Typed loosely: the package declares its own copy of the event union. */
  adapter: { send(event: never): void };
}

/** Feeds an instance's history into an inspector, so the Stately inspector shows a run after the fact. */
export function replayInto(inspector: InspectorLike, def: AnyWorkflowDefinition, history: readonly LogRecord[]): number {
  const events = inspectionEvents(def, history);
  for (const event of events) inspector.adapter.send(event as never);
  return events.length;
}

function foldAll(def: AnyWorkflowDefinition, log: readonly LogRecord[]): never {
  let state: InspectedState | undefined;
  const context = { stateBefore: (seq: number) => foldAll(def, log.filter((r) => r.seq < seq)) };
  for (const record of log) state = def.kind === "code" ? applyCodeRecord(state as CodeState | undefined, record, context) : applyRecord(def, state as InstanceState | undefined, record, context).state;
  return state as never;
}
