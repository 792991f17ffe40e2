import { monotonicFactory } from "ulid";
import {
  assertStepName,
  delayFromFunction,
  DELAY_FUNCTION_MS,
  loggedConfig,
  MAX_SLEEP_MS,
  NonRetryableDelayError,
  resolveStepConfig,
  staticRetryDelay,
  WorkflowFatalError,
  type ResolvedStepConfig,
} from "../core/code/config";
import type { CodeWorkflowDefinition } from "../core/code/definition";
import { createdRecord, type Creation } from "../core/creation";
import { applyCodeRecord, foldCode, nextCodeWake, rollbackAttempts, storedStreams, type CodeState, type StepResult } from "../core/code/fold";
import { toRunError } from "../core/code/run-errors";
import { codeStatusName } from "../core/code/status";
import type { WorkflowStep, WorkflowStepConfig, WorkflowStepContext, WorkflowStepEvent, WorkflowStepRollbackOptions } from "../core/code/types";
import { toMilliseconds } from "../core/durations";
import { isNonRetryable } from "../core/retry";
import { DurableMachinesError } from "../core/errors";
import { assertEventType } from "../core/ids";
import { fromStructured, toStructured } from "../core/code/structured";
import { STREAM_LIMITS, streamFailure, type StoredStream } from "../core/code/streams";
import { errorInfo } from "../core/planner";
import type { ErrorInfo, LogRecord, RecordBody, RecordData } from "../core/records";
import { redacted } from "../core/records";
import { cannotResume, cannotTerminate, eventRecord, invalidRestartFrom, kindOf, stepNotFound } from "../core/refusals";
import type { InstanceStatus, InstanceStatusName } from "../core/status";
import { get, has } from "../core/table";
import type { Clock } from "./clock";
import type { DriverOptions } from "./driver";
import type { HostedInstance, InstanceCommand, InstanceSummaryState } from "./hosted";
import { FAULT_RETRY_MS, logFault } from "./host-fault";
import { WorkflowTimeoutError } from "./step-runner";
import type { InstanceStore, ReadRange } from "./store";
import { replayStream, storeStream } from "./stream-output";
import { Expiry } from "./retention";
import { WakeUp } from "./wake";

const DEFAULT_WAIT_MS = 24 * 3_600_000;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Registered {
  name: string;
  count: number;
  callback: (ctx: WorkflowStepContext) => Promise<unknown>;
  config: ResolvedStepConfig;
  /** The pass of run() that asked for the step. */
  pass: number;
}

const never = () => new Promise<never>(() => undefined);

/** A step's ReadableStream once its bytes are stored: what its result record holds instead of a value. */
class StreamedOutput {
  constructor(
    readonly stored: StoredStream,
    readonly preview: string,
  ) {}
}

type Outcome = { ok: true; output: unknown } | { ok: false; error: ErrorInfo; fatal?: { attempt: string; instance: string } };

interface Rollback {
  name: string;
  count: number;
  rollback: (context: { ctx: WorkflowStepContext; error: Error; output: unknown; stepName: string }) => Promise<void>;
  config: ResolvedStepConfig;
  /** The forward step's config, as the handler's ctx shows it. */
  forward: WorkflowStepContext["config"];
}

/** What a handler is told when a terminate asked for the rollback. */
const TERMINATED: ErrorInfo = { name: "Terminated", message: "Instance terminated during rollback" };

/** Checks rollback options as strictly as Cloudflare does; its messages. */
function resolveRollback(name: string, options: unknown): Pick<Rollback, "rollback" | "config"> {
  if (typeof options !== "object" || options === null) throw new WorkflowFatalError(`Rollback options for "${name}" must be an object`);
  const { rollback, rollbackConfig } = options as { rollback?: unknown; rollbackConfig?: unknown };
  if (typeof rollback !== "function") throw new WorkflowFatalError(`Rollback for "${name}" must be a function`);
  try {
    return { rollback: rollback as Rollback["rollback"], config: resolveStepConfig(name, rollbackConfig as WorkflowStepConfig | undefined) };
  } catch {
    throw new WorkflowFatalError(`Rollback config for "${name}" is in a invalid format. See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/`);
  }
}

/**
 * Runs a code-first (Cloudflare-style) instance: `run()` executes live, and
 * every step it reaches is answered from the log when the log has its result,
 * or started and recorded when it has not. After a restart of the object,
 * a resume or a restart of the instance, `run()` is replayed from the top.
 */
export class CodeDriver implements HostedInstance {
  private readonly ulid = monotonicFactory();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly callbacks = new Map<string, Registered>();
  private readonly inflight = new Map<string, { attempt: number; controller: AbortController; done: Promise<void> }>();
  /** Rollback handlers the current pass registered, by step key. */
  private readonly rollbacks = new Map<string, Rollback>();
  /** The pass of the saga under way, if one is: a saga cut short by a reload ends without touching the next one's. */
  private rollingBack: number | undefined;
  /** A rollback stopped until a handler's retry is due; wake() takes it up again. */
  private rollbackWaiting: { error: ErrorInfo; trigger: "error" | "terminate" } | undefined;
  /** Each replay of run() is a pass; a step call from an older pass is ignored. */
  private pass = 0;
  /**
   * The pass a pause asked for while attempts ran waits on: the pause takes effect (the pass stops) once none
   * runs, and a resume before that cancels it and keeps the pass, as Cloudflare's engine keeps its run going
   * (status waitingForPause). Anything else that stops the pass ends the wait.
   */
  private pausePending: number | undefined;
  private readonly wakeUp: WakeUp;
  private readonly expiry: Expiry;
  private disposed = false;
  /** When a driver that met a host fault reloads from its log (host-fault.ts). */
  private faultRetryAt: number | undefined;
  /** Set while wake() runs; see armWake. */
  private waking = false;

  private constructor(
    private readonly def: CodeWorkflowDefinition,
    private readonly store: InstanceStore,
    private readonly clock: Clock,
    private readonly options: DriverOptions,
    private state: CodeState,
  ) {
    this.wakeUp = new WakeUp(clock, options.alarm, () => this.wake());
    this.expiry = new Expiry(store);
  }

  static create(def: CodeWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions, instanceId: string, creation: Creation): CodeDriver {
    const created = createdRecord(def, instanceId, creation);
    const driver = new CodeDriver(def, store, clock, options, undefined as unknown as CodeState);
    try {
      driver.append([created]);
    } catch (error) {
      // The create fails: nothing is left running for an instance its caller was told does not exist.
      driver.dispose();
      throw error;
    }
    driver.startPass();
    return driver;
  }

  static load(def: CodeWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions): CodeDriver {
    const driver = new CodeDriver(def, store, clock, options, undefined as unknown as CodeState);
    driver.resumeFromLog();
    return driver;
  }

  /** Everything from the log, as a fresh object does: the state, a new pass of run(), the wake-up, a terminate's saga. */
  private resumeFromLog(): void {
    this.faultRetryAt = undefined;
    this.rollingBack = undefined;
    this.state = this.stateBefore(Infinity);
    // Rows written by an attempt that crashed before its result was recorded.
    this.store.chunks.keepOnly(storedStreams(this.state.book));
    this.startPass();
    this.armWake();
    const { rollback, ended } = this.state.book;
    // An error-triggered saga resumes when the replayed run() throws again; a terminate's, once the replay has registered its handlers.
    if (rollback?.trigger === "terminate" && !rollback.finished && !ended) setTimeout(() => this.background(() => this.rollBack(rollback.error, "terminate")), 0);
  }

  summary(): InstanceSummaryState {
    const { book } = this.state;
    return { workflow: book.workflow, instanceId: book.instanceId, createdAt: book.createdAt, updatedAt: this.state.at, seq: this.state.seq, status: this.statusName() };
  }

  status(): InstanceStatus {
    const { book } = this.state;
    const status: InstanceStatus = { status: this.statusName(), value: this.waitingOn() };
    if (book.ended?.status === "complete" && book.ended.output !== undefined) status.output = book.ended.output;
    if (book.ended?.status === "errored") status.error = { name: book.ended.error.name, message: book.ended.error.message };
    return status;
  }

  /** The log as readers see it: a sensitive step's output shows as "[REDACTED]" (replay reads the store, which keeps it). */
  history(range: ReadRange = {}): LogRecord[] {
    return this.store.read(range).map(redacted);
  }

  command(command: InstanceCommand): void {
    if (this.disposed) throw new Error("This instance driver was disposed; get the instance again.");
    if (this.faultRetryAt !== undefined) this.reloadAfterFault();
    const { book } = this.state;
    switch (command.type) {
      case "event": {
        const takenNow = () => !book.paused && book.openWaits.some((key) => get(book.waits, key)?.type === command.event);
        const record = eventRecord(book, command, book.buffer.map((event) => event.payload), takenNow);
        if (record) this.append([record]);
        return;
      }
      case "pause":
        if (book.ended || book.paused) return;
        if (this.inflight.size) this.pausePending = this.pass;
        else this.pass++;
        this.append([{ type: "instance.paused", data: {} }]);
        return;
      case "resume":
        if (!book.paused || book.ended) throw cannotResume(book.instanceId, this.statusName());
        this.append([{ type: "instance.resumed", data: {} }]);
        if (this.pausePending !== this.pass) return this.startPass();
        // The pause never took effect: the pass goes on, and the steps it asked for meanwhile start now.
        this.pausePending = undefined;
        for (const [key, registered] of this.callbacks) if (registered.pass === this.pass) this.startIfDue(key);
        return;
      case "terminate":
        if (book.ended) throw cannotTerminate(book.instanceId, book.ended.status);
        // A saga already under way is cut short by a terminate, whatever it asks.
        if (command.rollback && this.rollingBack === undefined && !this.rollbackWaiting && (book.rollback || this.rollbackPlan().length)) {
          this.rollBack(TERMINATED, "terminate");
          return;
        }
        this.stopEverything();
        this.append([{ type: "instance.terminated", data: {} }]);
        return;
      case "restart": {
        let cut: number | undefined;
        if (command.from !== undefined) {
          if (typeof command.from !== "string") throw invalidRestartFrom(`got ${kindOf(command.from)}`);
          cut = get(book.firstStarted, command.from);
          if (cut === undefined) throw stepNotFound(command.from, book.instanceId);
        }
        this.stopEverything();
        this.append([{ type: "instance.restarted", data: cut === undefined ? {} : { from: command.from!, cut } }]);
        // The streamed outputs of the steps after the cut are never served again.
        this.store.chunks.keepOnly(storedStreams(this.state.book));
        this.startPass();
        return;
      }
    }
  }

  wake(): void {
    this.wakeUp.rang();
    if (this.disposed) return;
    this.waking = true;
    this.background(() => {
      if (this.faultRetryAt !== undefined) this.reloadAfterFault();
      if (this.expiry.due(this.state.book.ended, this.state.at, this.now())) return this.options.onExpired?.(this.summary());
      const waiting = this.rollbackWaiting;
      if (waiting && this.rollingBack === undefined) {
        this.rollbackWaiting = undefined;
        this.rollBack(waiting.error, waiting.trigger);
      }
      const { book } = this.state;
      if (book.ended || book.paused) return this.armWake();
      const now = this.now();
      const fired: RecordBody[] = [];
      for (const [key, sleep] of Object.entries(book.sleeps)) if (!sleep.done && sleep.dueAt <= now) fired.push({ type: "timer.fired", data: { id: key } });
      for (const [key, wait] of Object.entries(book.waits)) if (!wait.outcome && wait.dueAt <= now) fired.push({ type: "timer.fired", data: { id: key } });
      if (fired.length) this.append(fired);
      for (const [key, step] of Object.entries(this.state.book.steps)) {
        if (step.phase === "backoff" && (step.retryAt ?? Infinity) <= now && this.callbacks.has(key)) this.startAttempt(key, step.attempt + 1);
      }
      this.armWake();
    });
    this.waking = false;
  }

  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight.values()].map((run) => run.done));
  }

  idleNow(): boolean {
    return this.inflight.size === 0;
  }

  dispose(): void {
    this.disposed = true;
    this.wakeUp.cancel();
    this.stopEverything();
  }

  private statusName(): InstanceStatusName {
    return codeStatusName(this.state.book);
  }

  /** What the run is waiting on, for status(): the open step, sleep and event-wait keys. */
  private waitingOn(): string[] {
    const { book } = this.state;
    return [
      ...Object.keys(book.steps),
      ...Object.entries(book.sleeps).flatMap(([key, s]) => (s.done ? [] : [key])),
      ...Object.entries(book.waits).flatMap(([key, w]) => (w.outcome ? [] : [key])),
    ];
  }

  private now(): number {
    return Math.max(this.clock.now(), this.state?.at ?? 0);
  }

  private stateBefore(seq: number): CodeState {
    return foldCode(this.store.read({ before: seq }), undefined, { stateBefore: (cut) => this.stateBefore(cut) });
  }

  private stopEverything(): void {
    this.pass++;
    this.rollbackWaiting = undefined;
    for (const run of this.inflight.values()) run.controller.abort(new Error("The instance stopped this step."));
    this.inflight.clear();
    this.callbacks.clear();
    this.rollbacks.clear();
    this.waiters.clear();
  }

  /**
   * Appends records in one write, folds them, then settles every step call they answer. A write that throws is a
   * host fault: the caller gets the error, and the driver reloads from its log (host-fault.ts).
   */
  private append(bodies: RecordBody[], now = this.now()): void {
    const context = { stateBefore: (seq: number) => this.stateBefore(seq) };
    const first = (this.state?.seq ?? 0) + 1;
    const records = bodies.map((body, i) => ({ ...body, seq: first + i, id: this.ulid(now), at: now }) as LogRecord);
    try {
      this.store.append(records);
      for (const record of records) this.state = applyCodeRecord(this.state, record, context);
      this.options.onAppend?.(records, this.summary());
      this.settleWaiters();
    } catch (error) {
      this.fault(error);
      throw error;
    }
    this.armWake();
  }

  /** A host fault: log it, stop all work (in memory it may be ahead of the log), and reload from the log when the wake-up rings. */
  private fault(error: unknown): void {
    // An instance being created has nothing to reload: its create fails instead.
    if (this.disposed || this.faultRetryAt !== undefined || !this.state) return;
    this.faultRetryAt = this.clock.now() + FAULT_RETRY_MS;
    logFault(this.state.book, error);
    this.stopEverything();
    this.armWake();
  }

  private reloadAfterFault(): void {
    try {
      this.resumeFromLog();
    } catch (error) {
      this.fault(error);
      throw error;
    }
  }

  /** Work no request waits on: whatever it throws, at once or later, is a fault, never an unhandled rejection. */
  private background(work: () => unknown): void {
    try {
      const result = work();
      if (result instanceof Promise) result.catch((error: unknown) => this.fault(error));
    } catch (error) {
      this.fault(error);
    }
  }

  private settleWaiters(): void {
    const { book } = this.state;
    for (const [key, waiters] of this.waiters) {
      if (!this.answer(key, book)) continue;
      this.waiters.delete(key);
      // An answer each: a streamed output is a stream per reader.
      for (const waiter of waiters) {
        const answer = this.answer(key, book)!;
        if (answer.ok) waiter.resolve(answer.value);
        else waiter.reject(answer.error);
      }
    }
  }

  /** The log's answer to a step call, if it has one. */
  private answer(key: string, book = this.state.book): { ok: true; value: unknown } | { ok: false; error: Error } | undefined {
    const result: StepResult | undefined = get(book.results, key);
    if (result) return result.ok ? { ok: true, value: this.valueOf(key, result) } : { ok: false, error: toRunError(result.error) };
    const sleep = get(book.sleeps, key);
    if (sleep?.done) return { ok: true, value: undefined };
    const wait = get(book.waits, key);
    const outcome = wait?.outcome;
    if (outcome && "event" in outcome) {
      const event: WorkflowStepEvent<unknown> = { payload: outcome.event.payload as never, type: outcome.event.type, timestamp: new Date(outcome.event.at) };
      return { ok: true, value: event };
    }
    if (outcome) return { ok: false, error: toRunError({ name: "WorkflowTimeoutError", message: `Execution timed out after ${wait!.timeoutMs}ms` }) };
    return undefined;
  }

  /** A settled step's value as run() receives it: a streamed output as a fresh stream of its stored rows, each time it is asked for. */
  private valueOf(key: string, result: Extract<StepResult, { ok: true }>): unknown {
    if (!("stream" in result)) return fromStructured(result);
    const { attempt } = result.stream;
    return replayStream(result.stream, (index) => this.store.chunks.read(key, attempt, index));
  }

  private await<T>(key: string, pass: number): Promise<T> {
    const answer = this.answer(key);
    if (answer) return answer.ok ? Promise.resolve(answer.value as T) : Promise.reject(answer.error);
    if (pass !== this.pass) return never();
    return new Promise<T>((resolve, reject) => this.waiters.set(key, [...(this.waiters.get(key) ?? []), { resolve: resolve as (value: unknown) => void, reject }]));
  }

  private startPass(): void {
    const { book } = this.state;
    if (book.ended || book.paused || this.disposed) return;
    const pass = ++this.pass;
    const counters = { do: new Map<string, number>(), sleep: new Map<string, number>(), waitForEvent: new Map<string, number>() };
    let steps = 0;
    const next = (type: keyof typeof counters, name: string) => {
      const count = (counters[type].get(name) ?? 0) + 1;
      counters[type].set(name, count);
      return { count, key: `${type}:${name}-${count}` };
    };
    const live = () => pass === this.pass && !this.disposed;
    /** A refusal as run() receives it: a WorkflowFatalError with Cloudflare's message, its name kept (docs/cloudflare-compat.md, 17). */
    const refused = (error: unknown): Promise<never> =>
      Promise.reject(toRunError(errorInfo(error instanceof DurableMachinesError ? new WorkflowFatalError(error.message) : error)));
    /** A call that gets no answer: refused while handlers roll back (Cloudflare's message), ignored from an older pass. */
    const closed = (): Promise<never> | undefined =>
      this.rollingBack !== undefined ? refused(new WorkflowFatalError("Cannot execute steps during rollback phase")) : live() ? undefined : never();

    const api: WorkflowStep = {
      do: (<T>(
        name: string,
        configOrCallback: WorkflowStepConfig | ((ctx: WorkflowStepContext) => Promise<T>),
        callbackOrRollback?: ((ctx: WorkflowStepContext) => Promise<T>) | WorkflowStepRollbackOptions<T>,
        maybeRollback?: WorkflowStepRollbackOptions<T>,
      ): Promise<T> => {
        const shut = closed();
        if (shut) return shut;
        try {
          assertStepName(name);
          const withoutConfig = typeof configOrCallback === "function";
          const callback = withoutConfig ? configOrCallback : (callbackOrRollback as (ctx: WorkflowStepContext) => Promise<T>);
          const rollback = withoutConfig ? (callbackOrRollback as WorkflowStepRollbackOptions<T> | undefined) : maybeRollback;
          const config = resolveStepConfig(name, withoutConfig ? undefined : configOrCallback);
          if (typeof callback !== "function") throw new WorkflowFatalError(`Step "${name}" requires a callback function`);
          const undo = rollback === undefined ? undefined : resolveRollback(name, rollback);
          if (++steps > this.def.stepLimit) {
            throw new WorkflowFatalError(`The limit of ${this.def.stepLimit} steps has been reached. This limit can be changed in your worker configuration.`);
          }
          const { count, key } = next("do", name);
          if (undo) this.rollbacks.set(key, { name, count, ...undo, forward: config.publicConfig });
          if (has(this.state.book.results, key)) return this.await<T>(key, pass);
          this.callbacks.set(key, { name, count, callback, config, pass });
          this.startIfDue(key);
          return this.await<T>(key, pass);
        } catch (error) {
          return refused(error);
        }
      }) as WorkflowStep["do"],

      sleep: (name, duration) => {
        const shut = closed();
        if (shut) return shut;
        try {
          assertStepName(name);
          const ms = toMilliseconds(duration);
          if (ms > MAX_SLEEP_MS) throw new WorkflowFatalError(`Sleep "${name}" is longer than the 365-day limit.`);
          return this.sleepUntilTime(next("sleep", name).key, this.now() + ms, pass, false);
        } catch (error) {
          return refused(error);
        }
      },

      sleepUntil: (name, timestamp) => {
        const shut = closed();
        if (shut) return shut;
        try {
          assertStepName(name);
          const at = timestamp instanceof Date ? timestamp.getTime() : timestamp;
          if (typeof at !== "number" || !Number.isFinite(at)) throw new WorkflowFatalError(`sleepUntil("${name}") needs a Date or epoch milliseconds.`);
          if (at - this.now() > MAX_SLEEP_MS) throw new WorkflowFatalError(`Sleep "${name}" is longer than the 365-day limit.`);
          return this.sleepUntilTime(next("sleep", name).key, at, pass, true);
        } catch (error) {
          return refused(error);
        }
      },

      waitForEvent: <T>(name: string, options: { type: string; timeout?: string | number }) => {
        const shut = closed();
        if (shut) return shut;
        try {
          assertStepName(name);
          assertEventType(options?.type);
          const ms = options.timeout === undefined ? DEFAULT_WAIT_MS : toMilliseconds(options.timeout);
          const { key } = next("waitForEvent", name);
          if (!has(this.state.book.waits, key)) this.append([{ type: "wait.started", data: { key, type: options.type, dueAt: this.now() + ms, timeoutMs: ms } }]);
          return this.await<WorkflowStepEvent<T>>(key, pass);
        } catch (error) {
          return refused(error);
        }
      },
    } as WorkflowStep;

    // Cloudflare's params default to {}.
    const event = { payload: (book.params ?? {}) as never, timestamp: new Date(book.createdAt), instanceId: book.instanceId, workflowName: book.workflow, ...(book.schedule ? { schedule: book.schedule } : {}) };
    // A constructor that throws fails the run like run() throwing, rather than the request that started it.
    Promise.resolve()
      .then(() => new this.def.entrypoint({ waitUntil: () => undefined } as never, this.options.env as never).run(event as never, api))
      .then(
        (output) => {
          if (!live() || this.state.book.ended) return;
          let structured;
          try {
            structured = toStructured(output, "the workflow's output");
          } catch (error) {
            this.append([{ type: "instance.errored", data: { error: errorInfo(error) } }]);
            return;
          }
          this.append([{ type: "instance.completed", data: structured === undefined ? {} : { output: structured.json, ...(structured.meta === undefined ? {} : { meta: structured.meta }) } }]);
        },
        (error: unknown) => {
          if (!live() || this.state.book.ended) return;
          this.fail(errorInfo(error));
        },
      )
      .catch((error: unknown) => this.fault(error));
  }

  /** Starts a step's next attempt unless one runs or the instance is paused: its first, one a stop cut off, or a retry whose time has come. */
  private startIfDue(key: string): void {
    const { book } = this.state;
    if (book.paused || this.inflight.has(key) || has(book.results, key)) return;
    const pending = get(book.steps, key);
    if (!pending) this.startAttempt(key, 1);
    else if (pending.phase === "running") this.startAttempt(key, pending.attempt + 1);
    else if ((pending.retryAt ?? Infinity) <= this.now()) this.startAttempt(key, pending.attempt + 1);
  }

  /** A pause that waited for the running attempts takes effect once none runs: the pass stops, and resume() replays run(). */
  private pauseOnceIdle(): void {
    if (this.pausePending !== this.pass || this.inflight.size) return;
    this.pausePending = undefined;
    this.pass++;
  }

  private sleepUntilTime(key: string, dueAt: number, pass: number, refusePast: boolean): Promise<void> {
    if (!has(this.state.book.sleeps, key)) {
      if (refusePast && dueAt < this.now()) return Promise.reject(new Error("You can't sleep until a time in the past, time-traveler"));
      this.append([{ type: "timer.started", data: { id: key, dueAt } }]);
    }
    return this.await<void>(key, pass);
  }

  private startAttempt(key: string, attempt: number): void {
    const registered = this.callbacks.get(key);
    if (!registered) return;
    this.append([{ type: "step.started", data: { key, attempt, ...(attempt === 1 ? loggedConfig(registered.config) : {}) } }]);
    const controller = new AbortController();
    const ctx: WorkflowStepContext = { step: { name: registered.name, count: registered.count }, attempt, config: registered.config.publicConfig };
    const timeout = registered.config.timeoutMs;
    let settling: Promise<void> | undefined;
    /** Settles the attempt once, by whichever comes first: what its callback gave, or its timeout. */
    const settle = (outcome: Outcome): Promise<void> =>
      (settling ??= (async () => {
        cancel();
        if (this.inflight.get(key)?.attempt !== attempt || this.disposed) return;
        await this.settleAttempt(key, attempt, registered, ctx, outcome);
      })());
    // The timeout is recorded when its timer fires, not once promises have settled: a manual clock fires every
    // timer of one advance before any promise settles, so a timer due later in the same advance would act first.
    const cancel = this.clock.setTimer(this.clock.now() + timeout, () => {
      const error = new WorkflowTimeoutError(timeout);
      controller.abort(error);
      this.background(() => settle({ ok: false, error: errorInfo(error) }));
    });
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }));
    aborted.catch(() => undefined);
    // A returned stream is read within the attempt, under its timeout.
    const done = Promise.race([
      Promise.resolve()
        .then(() => registered.callback(ctx))
        .then((output) => this.stored(key, attempt, output, controller.signal)),
      aborted,
    ])
      .then(
        (output): Outcome => ({ ok: true, output }),
        (error: unknown): Outcome => {
          const fatal = streamFailure(error, registered.name);
          return { ok: false, error: errorInfo(error), ...(fatal ? { fatal } : {}) };
        },
      )
      .then(settle)
      .catch((error: unknown) => this.fault(error));
    this.inflight.set(key, { attempt, controller, done });
    // Appending step.started armed the wake-up before this attempt counted as running: arm it again, so a lone
    // step keeps the keep-alive that wakes an object a crash caught in the step's middle.
    this.armWake();
  }

  /** A returned ReadableStream, read to its end into rows; any other output as it is. */
  private async stored(key: string, attempt: number, output: unknown, signal: AbortSignal): Promise<unknown> {
    if (!(output instanceof ReadableStream)) return output;
    const { stored, preview } = await storeStream(output, { chunks: this.store.chunks, key, attempt, limits: this.options.streamLimits ?? STREAM_LIMITS, signal });
    return new StreamedOutput(stored, preview);
  }

  private async settleAttempt(key: string, attempt: number, registered: Registered, ctx: WorkflowStepContext, outcome: Outcome): Promise<void> {
    const current = () => this.inflight.get(key)?.attempt === attempt && !this.disposed && !this.state.book.ended;
    if (outcome.ok) {
      let data: RecordData["step.succeeded"];
      try {
        data = this.succeeded(key, attempt, registered, outcome.output);
      } catch (error) {
        // A refusal of toStructured's, or what reading the value threw (a getter, a proxy): either way the output cannot be kept.
        return this.endFatally(key, attempt, errorInfo(error), `The execution of the Workflow instance was terminated, as the step "${registered.name}" returned a value which is not serialisable`);
      }
      this.inflight.delete(key);
      this.append([{ type: "step.succeeded", data }]);
      return this.pauseOnceIdle();
    }
    if (outcome.fatal) return this.endFatally(key, attempt, { name: "WorkflowFatalError", message: outcome.fatal.attempt }, outcome.fatal.instance);
    const failures = (get(this.state.book.steps, key)?.failures ?? 0) + 1;
    let error = outcome.error;
    let wait: number | undefined;
    const retries = !isNonRetryable(error) && failures <= registered.config.limit;
    // A fixed delay is known at once, so that a timeout's failure is recorded in its timer's own turn (see startAttempt).
    if (retries && typeof registered.config.delay === "number") wait = staticRetryDelay(registered.config, failures);
    else if (retries) {
      try {
        wait = await this.retryDelay(registered, ctx, error, failures);
      } catch (delayError) {
        error = { ...errorInfo(delayError), nonRetryable: true };
      }
    }
    if (!current()) return;
    this.inflight.delete(key);
    // The wait starts once the delay function has answered, as Cloudflare's does; the record's time is the wait's start.
    const now = this.now();
    const retryAt = wait === undefined ? undefined : now + wait;
    // The attempt keeps its own error; a failed delay function is the step's error, as in Cloudflare's events.
    const attemptFailure = { key, attempt, error: outcome.error };
    this.append(
      retryAt === undefined
        ? [{ type: "step.attempt_failed", data: attemptFailure }, { type: "step.failed", data: { key, attempt, error } }]
        : [{ type: "step.attempt_failed", data: { ...attemptFailure, retryAt } }],
      now,
    );
    this.pauseOnceIdle();
  }

  /** The result record: a streamed output by where its rows are, with its preview as what readers are shown. */
  private succeeded(key: string, attempt: number, registered: Registered, output: unknown): RecordData["step.succeeded"] {
    const sensitive = registered.config.publicConfig.sensitive === "output" ? { sensitive: true as const } : {};
    if (output instanceof StreamedOutput) return { key, attempt, output: output.preview, stream: output.stored, ...sensitive };
    const structured = toStructured(output, `the output of step "${registered.name}"`);
    const shown = structured === undefined ? {} : { output: structured.json, ...(structured.meta === undefined ? {} : { meta: structured.meta }) };
    return { key, attempt, ...shown, ...sensitive };
  }

  /** Cloudflare ends the instance, rather than throwing into run(), when a step's output cannot be kept; no rollback runs. */
  private endFatally(key: string, attempt: number, error: ErrorInfo, message: string): void {
    const failure = { key, attempt, error: { ...error, nonRetryable: true } };
    this.stopEverything();
    this.append([{ type: "step.attempt_failed", data: failure }, { type: "step.failed", data: failure }, { type: "instance.errored", data: { error: { name: "WorkflowFatalError", message } } }]);
  }

  /** What a delay function answers for this failure, within its time limit. */
  private async retryDelay(registered: Registered, ctx: WorkflowStepContext, error: ErrorInfo, failures: number): Promise<number> {
    const delay = registered.config.delay as Exclude<ResolvedStepConfig["delay"], number>;
    const stepName = `${registered.name}-${registered.count}`;
    let cancel = () => undefined as void;
    const timedOut = new Promise<never>((_, reject) => {
      cancel = this.clock.setTimer(this.clock.now() + DELAY_FUNCTION_MS, () => reject(new NonRetryableDelayError(`The delay function for step "${stepName}" did not return within ${DELAY_FUNCTION_MS / 1000} seconds`)));
    });
    try {
      const thrown = Object.assign(new Error(error.message), { name: error.name });
      const result = await Promise.race([
        Promise.resolve()
          .then(() => delay({ ctx, error: thrown }))
          .catch((cause: unknown) => {
            throw new NonRetryableDelayError(`The delay function for step "${stepName}" threw an error: ${errorInfo(cause).message}`);
          }),
        timedOut,
      ]);
      return delayFromFunction(stepName, result);
    } finally {
      cancel();
    }
  }

  /** An error escaped run(): undo the started steps that have rollback handlers, newest first, then end errored. */
  private fail(error: ErrorInfo): void {
    const { rollback } = this.state.book;
    if (!rollback && !this.rollbackPlan().length) {
      this.append([{ type: "instance.errored", data: { error } }]);
      return;
    }
    this.rollBack(rollback?.error ?? error, "error");
  }

  /** Started steps with a handler, not yet rolled back, in reverse order of their first start (Cloudflare's order). */
  private rollbackPlan(): [string, Rollback][] {
    const { firstStarted, rollback } = this.state.book;
    return [...this.rollbacks]
      .filter(([key]) => has(firstStarted, key) && !rollback?.done.includes(key))
      .sort(([a], [b]) => get(firstStarted, b)! - get(firstStarted, a)!);
  }

  /**
   * Starts the saga. Its first record is written before this returns, so that a terminate whose write fails is
   * refused to its caller; the handlers run in the background.
   */
  private rollBack(error: ErrorInfo, trigger: "error" | "terminate"): void {
    if (this.rollingBack !== undefined || this.disposed || this.faultRetryAt !== undefined) return;
    const plan = this.rollbackPlan();
    const epoch = ++this.pass;
    this.rollingBack = epoch;
    for (const run of this.inflight.values()) run.controller.abort(new Error("The instance is rolling back."));
    this.inflight.clear();
    if (!this.state.book.rollback) this.append([{ type: "rollback.started", data: { error, trigger } }]);
    this.background(() => this.undo(plan, error, trigger, epoch));
  }

  /** Runs the saga's handlers newest first, then ends the instance. */
  private async undo(plan: [string, Rollback][], error: ErrorInfo, trigger: "error" | "terminate", epoch: number): Promise<void> {
    try {
      const end: RecordBody = trigger === "terminate" ? { type: "instance.terminated", data: {} } : { type: "instance.errored", data: { error } };
      for (const [key, handler] of plan) {
        const failure = await this.runRollback(key, handler, error, trigger, epoch);
        if (failure === "stopped") return;
        if (failure === "waiting") {
          this.rollbackWaiting = { error, trigger };
          return;
        }
        if (failure) {
          this.append([{ type: "rollback.step.failed", data: { key, error: failure } }, { type: "rollback.errored", data: { error: failure } }, end]);
          return;
        }
        this.append([{ type: "rollback.step.succeeded", data: { key } }]);
      }
      this.append([{ type: "rollback.completed", data: {} }, end]);
    } finally {
      if (this.rollingBack === epoch) this.rollingBack = undefined;
      this.armWake();
    }
  }

  /**
   * Runs one handler as a step of its own, with the attempts and timeout of its rollbackConfig. Returns its final
   * error, if any, or "waiting" when a retry is due later: the wait is in the log, so an eviction can come in between.
   */
  private async runRollback(key: string, handler: Rollback, error: ErrorInfo, trigger: "error" | "terminate", epoch: number): Promise<ErrorInfo | undefined | "stopped" | "waiting"> {
    const { book } = this.state;
    const result = get(book.results, key);
    const argument = {
      ctx: { step: { name: handler.name, count: handler.count }, attempt: get(book.attempts, key) ?? 1, config: handler.forward },
      // Cloudflare hands a terminate's handlers a plain Error: its "Terminated" name is lost on the way.
      error: trigger === "terminate" ? new Error(TERMINATED.message) : toRunError(error),
      output: result?.ok ? this.valueOf(key, result) : undefined,
      stepName: `${handler.name}-${handler.count}`,
    };
    const stopped = () => this.disposed || this.pass !== epoch || (this.state.book.ended !== null && trigger === "error");
    // A crash or an eviction costs no retry: attempts go on from the log.
    const resumed = rollbackAttempts(book, key);
    for (let attempt = (resumed?.attempt ?? 0) + 1, failures = resumed?.failures ?? 0; ; attempt++) {
      if ((rollbackAttempts(this.state.book, key)?.retryAt ?? -Infinity) > this.now()) return "waiting";
      if (stopped()) return "stopped";
      this.append([{ type: "rollback.step.started", data: { key, attempt, ...(attempt === 1 ? loggedConfig(handler.config) : {}) } }]);
      const timeout = handler.config.timeoutMs;
      let cancel = () => undefined as void;
      const timedOut = new Promise<never>((_, reject) => {
        cancel = this.clock.setTimer(this.clock.now() + timeout, () => reject(new WorkflowTimeoutError(timeout)));
      });
      const outcome = await Promise.race([Promise.resolve().then(() => handler.rollback(argument as never)), timedOut]).then(
        () => undefined,
        (cause: unknown) => errorInfo(cause),
      );
      cancel();
      if (stopped()) return "stopped";
      if (!outcome) return undefined;
      failures++;
      const retry = !isNonRetryable(outcome) && failures <= handler.config.limit && typeof handler.config.delay === "number";
      const now = this.now();
      const retryAt = retry ? now + staticRetryDelay(handler.config, failures) : undefined;
      this.append([{ type: "rollback.step.attempt_failed", data: { key, attempt, error: outcome, ...(retryAt === undefined ? {} : { retryAt }) } }], now);
      if (retryAt === undefined) return outcome;
    }
  }

  private armWake(): void {
    if (this.disposed) return this.wakeUp.arm(undefined, false);
    if (this.faultRetryAt !== undefined) return this.wakeUp.arm(this.faultRetryAt, true);
    let at = nextCodeWake(this.state.book);
    // What wake() found due and left is what only the replay of run() can take up (a retry whose step it has not
    // reached yet, a saga it has not resumed yet), and it does so as it gets there: waking again for it would do
    // nothing, and on a manual clock, whose timers fire before any promise settles, would do it forever.
    if (this.waking && at !== undefined && at <= this.now()) at = undefined;
    this.wakeUp.arm(at, this.inflight.size > 0 || this.rollingBack !== undefined, this.expiry.at(this.state.book.ended, this.state.at));
  }

}
