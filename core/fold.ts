import type { AnyEventObject, AnyMachineSnapshot, ExecutableActionObject } from "xstate";
import type { WorkflowDefinition } from "./definition";
import { CorruptLogError } from "./errors";
import type { LogRecord, RecordBody } from "./records";
import { accepts, begin, deliver, type Delivery } from "./planner";
import { compensationSettled, fail, rememberOutput, rememberStart } from "./compensation";
import type { Book, InstanceState } from "./state";
import { backoff, shiftRetries } from "./pause";
import { get, has, put } from "./table";

export interface FoldContext {
  /** The state folded from every record before `seq`; needed only to fold a restart from a step. */
  stateBefore(seq: number): InstanceState;
}

export interface Applied {
  state: InstanceState;
  /** The user's actions the live host runs once; a replay ignores them. */
  actions: ExecutableActionObject[];
}

type Deferrable = RecordBody<"step.succeeded" | "step.failed" | "timer.fired" | "event.received">;

/**
 * A copy of the book that folding one record may change freely. The rule
 * every fold follows (see applyCodeRecord) lets a fold change its state in
 * place; this one copies the book, which is small, because the machine
 * snapshot beside it is immutable anyway. (Immer did this first; in a profile of a
 * 2,000-step instance its proxies took half the fold's time, and the book is
 * small enough to copy.) Idempotency keys and the generation counters (one
 * per invoke and timer ever started) grow with the run, so they are copied
 * only where one is added.
 */
function writable(book: Book): Book {
  const copy = <T extends object>(table: Record<string, T>) => {
    const copied: Record<string, T> = {};
    for (const key in table) put(copied, key, { ...table[key]! });
    return copied;
  };
  return {
    ...book,
    steps: copy(book.steps),
    timers: copy(book.timers),
    inbox: [...book.inbox],
    paused: book.paused && { ...book.paused, deferred: [...book.paused.deferred] },
    compensable: book.compensable.map((done) => ({ ...done })),
    rollback: book.rollback && { ...book.rollback, queue: [...book.rollback.queue] },
  };
}

function edit(book: Book, change: (draft: Book) => void): Book {
  const draft = writable(book);
  change(draft);
  return draft;
}

type Identity = Pick<Book, "workflow" | "instanceId" | "definitionHash" | "params" | "createdAt">;

function emptyBook({ workflow, instanceId, definitionHash, params, createdAt }: Identity): Book {
  return {
    workflow,
    instanceId,
    definitionHash,
    params,
    createdAt,
    steps: {},
    timers: {},
    stepGenerations: {},
    timerGenerations: {},
    inbox: [],
    idempotencyKeys: {},
    paused: null,
    compensable: [],
    rollback: null,
    ended: null,
  };
}

/** The machine event an input becomes, or undefined when what it answers is gone (a step its state stopped). */
function toMachineEvent(book: Book, input: Deferrable): AnyEventObject | undefined {
  switch (input.type) {
    case "step.succeeded":
    case "step.failed": {
      const entry = get(book.steps, input.data.key);
      if (!entry) return undefined;
      delete book.steps[input.data.key];
      return input.type === "step.succeeded"
        ? { type: `xstate.done.actor.${entry.invokeId}`, output: input.data.output, actorId: entry.invokeId }
        : { type: `xstate.error.actor.${entry.invokeId}`, error: input.data.error, actorId: entry.invokeId };
    }
    case "timer.fired": {
      const timer = Object.values(book.timers).find((t) => t.id === input.data.id);
      if (!timer) return undefined;
      delete book.timers[timer.sendId];
      return { ...timer.event };
    }
    case "event.received":
      return { type: input.data.type, payload: input.data.payload };
  }
}

/** Whether an input is still wanted: a step result for the running attempt, a live timer, a fresh event. */
function admits(book: Book, input: Deferrable): boolean {
  switch (input.type) {
    case "step.succeeded":
    case "step.failed": {
      const entry = get(book.steps, input.data.key);
      return entry?.phase === "running" && entry.attempt === input.data.attempt;
    }
    case "timer.fired":
      return Object.values(book.timers).some((t) => t.id === input.data.id);
    case "event.received":
      return input.data.idempotencyKey === undefined || !has(book.idempotencyKeys, input.data.idempotencyKey);
  }
}

function feed(def: WorkflowDefinition, book: Book, machine: AnyMachineSnapshot, input: Deferrable, at: number): Delivery {
  const event = toMachineEvent(book, input);
  if (!event) return { machine, actions: [] };
  if (input.type === "event.received" && !accepts(machine, event)) {
    book.inbox.push({ type: input.data.type, payload: input.data.payload });
    return { machine, actions: [] };
  }
  return deliver(def, book, machine, event, at);
}

function rekeyed(prefix: InstanceState, current: Book, at: number): { book: Book; machine: AnyMachineSnapshot } {
  const shift = at - prefix.at;
  const book = edit(prefix.book, (draft) => {
    draft.stepGenerations = { ...current.stepGenerations };
    draft.timerGenerations = { ...current.timerGenerations };
    draft.idempotencyKeys = { ...current.idempotencyKeys };
    const steps = Object.values(draft.steps);
    draft.steps = {};
    for (const entry of steps) {
      const generation = (get(draft.stepGenerations, entry.invokeId) ?? 0) + 1;
      put(draft.stepGenerations, entry.invokeId, generation);
      const key = `${entry.invokeId}#${generation}`;
      put(
        draft.steps,
        key,
        entry.phase === "backoff"
          ? { ...entry, key, retryAt: (entry.retryAt ?? at) + shift }
          : { ...entry, key, attempt: 0, failures: 0, phase: "ready" },
      );
    }
    for (const timer of Object.values(draft.timers)) {
      const generation = (get(draft.timerGenerations, timer.sendId) ?? 0) + 1;
      put(draft.timerGenerations, timer.sendId, generation);
      timer.id = `${timer.sendId}#${generation}`;
      timer.dueAt += shift;
    }
  });
  return { book, machine: prefix.machine };
}

/**
 * Folds one record into the state, under the one mutation rule of every fold
 * (see applyCodeRecord). Pure: the result depends only on the state, the
 * record and the definition. Returns the user's actions so the
 * live host can run them; replay discards them.
 */
export function applyRecord(def: WorkflowDefinition, state: InstanceState | undefined, record: LogRecord, context: FoldContext): Applied {
  if (!state) {
    if (record.type !== "instance.created") throw new CorruptLogError(`The log starts with ${record.type} at seq ${record.seq}, not instance.created.`);
    const { workflow, instanceId, definitionHash, params } = record.data;
    let machine: AnyMachineSnapshot | undefined;
    let actions: ExecutableActionObject[] = [];
    const book = edit(emptyBook({ workflow, instanceId, definitionHash, params, createdAt: record.at }), (draft) => {
      ({ machine, actions } = begin(def, draft, params, record.at));
    });
    return { state: { seq: record.seq, at: record.at, machine: machine!, book }, actions };
  }

  let machine = state.machine;
  let actions: ExecutableActionObject[] = [];
  const move = (delivery: Delivery) => {
    machine = delivery.machine;
    actions = actions.concat(delivery.actions);
  };
  let book = state.book;

  switch (record.type) {
    case "instance.created":
      throw new CorruptLogError(`A second instance.created at seq ${record.seq}.`);
    case "instance.restarted": {
      if (record.data.cut === undefined) {
        const fresh = emptyBook(book);
        book = edit({ ...fresh, stepGenerations: book.stepGenerations, timerGenerations: book.timerGenerations, idempotencyKeys: book.idempotencyKeys }, (draft) => {
          move(begin(def, draft, book.params, record.at));
        });
      } else {
        ({ book, machine } = rekeyed(context.stateBefore(record.data.cut), book, record.at));
      }
      break;
    }
    default:
      if (book.ended) break;
      book = edit(book, (draft) => {
        switch (record.type) {
          case "step.started": {
            const entry = get(draft.steps, record.data.key);
            if (entry) Object.assign(entry, { attempt: record.data.attempt, phase: "running", retryAt: undefined });
            if (entry && record.data.attempt === 1) rememberStart(def, draft, record.data.key);
            break;
          }
          case "step.attempt_failed": {
            const entry = get(draft.steps, record.data.key);
            if (!entry || entry.attempt !== record.data.attempt || entry.phase !== "running") break;
            entry.failures += 1;
            if (record.data.retryAt !== undefined) Object.assign(entry, backoff(record.data.retryAt, draft.paused, record.at));
            break;
          }
          case "step.succeeded":
          case "step.failed":
          case "timer.fired":
          case "event.received": {
            const input = { type: record.type, data: record.data } as Deferrable;
            if (!admits(draft as Book, input)) break;
            if (input.type === "step.succeeded" || input.type === "step.failed") {
              const entry = get(draft.steps, input.data.key)!;
              if (entry.compensates) {
                compensationSettled(def, draft, entry.key, input.type === "step.failed" ? input.data.error : undefined);
                break;
              }
              if (input.type === "step.succeeded") rememberOutput(draft, input.data.key, input.data.output);
            }
            if (input.type === "event.received" && input.data.idempotencyKey !== undefined) {
              draft.idempotencyKeys = { ...draft.idempotencyKeys, [input.data.idempotencyKey]: record.seq };
            }
            if (draft.paused) {
              const entry = "key" in input.data ? get(draft.steps, input.data.key) : undefined;
              if (entry) entry.phase = "settled";
              draft.paused.deferred.push(input);
            } else {
              move(feed(def, draft, machine, input, record.at));
            }
            break;
          }
          case "instance.paused":
            draft.paused ??= { at: record.at, deferred: [] };
            break;
          case "instance.resumed": {
            if (!draft.paused) break;
            const shift = record.at - draft.paused.at;
            const deferred = draft.paused.deferred;
            draft.paused = null;
            for (const timer of Object.values(draft.timers)) timer.dueAt += shift;
            shiftRetries(draft.steps, shift);
            for (const input of deferred) if (!draft.ended) move(feed(def, draft, machine, input, record.at));
            break;
          }
          case "rollback.started":
            // For machines, the record that asks for a saga on terminate; as a notice of one already under way, it changes nothing.
            if (!draft.rollback) fail(def, draft, record.data.error, record.data.trigger);
            break;
          case "instance.terminated":
            draft.ended = { status: "terminated" };
            draft.steps = {};
            draft.timers = {};
            draft.paused = null;
            break;
        }
      });
  }
  return { state: { seq: record.seq, at: record.at, machine, book }, actions };
}

/** Folds records in order onto a state (or from nothing, starting with instance.created). */
export function fold(def: WorkflowDefinition, records: readonly LogRecord[], from?: InstanceState, context?: FoldContext): InstanceState {
  const ctx: FoldContext = context ?? {
    stateBefore: (seq) => fold(def, records.filter((r) => r.seq < seq), undefined),
  };
  let state = from;
  for (const record of records) state = applyRecord(def, state, record, ctx).state;
  if (!state) throw new CorruptLogError("The log is empty.");
  return state;
}
