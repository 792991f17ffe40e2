import type { ResolvedStepConfig } from "../core/code/config";
import { callable, needsRetryDelay, type AttemptOutcome, type CodeCommand, type CodeDecision } from "../core/code/decide";
import type { CodeWorkflowDefinition } from "../core/code/definition";
import { logAnswer } from "../core/code/answers";
import { storedStreams, type StepResult } from "../core/code/fold";
import { toRunError } from "../core/code/run-errors";
import { STREAM_LIMITS, streamFailure, type StoredStream } from "../core/code/streams";
import { fromStructured } from "../core/code/structured";
import type { WorkflowStepContext, WorkflowStepEvent } from "../core/code/types";
import type { Creation } from "../core/creation";
import { errorInfo } from "../core/planner";
import type { ErrorInfo } from "../core/records";
import { TERMINATED_FOR_ROLLBACK } from "../core/saga";
import { get } from "../core/table";
import type { Clock } from "./clock";
import { retryDelayOf } from "./delay-function";
import type { DriverOptions } from "./driver";
import { CodeShell } from "./code-shell";
import type { HostedInstance } from "./hosted";
import { runAttempt, type RawOutcome } from "./step-runner";
import type { InstanceStore } from "./store";
import { replayStream, storeStream } from "./stream-output";
import { never, stepApi, type Registered } from "./step-api";
import { modifiedCall } from "./code-test-hooks";
import { mockedBody } from "./mocked-step";
import type { InstanceHooks } from "./test-hooks";

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Runs a code-first (Cloudflare-style) instance: the in-object client of the
 * code-first kernel (core/code/decide.ts). run() executes live; each call it
 * makes is a command, answered from the log when the log has its result and
 * started by the kernel when it has not. After a restart of the object, a
 * resume or a restart of the instance, run() is replayed from the top.
 */
export class CodeDriver extends CodeShell implements HostedInstance {
  private readonly waiters = new Map<string, Waiter[]>();
  /** The functions of the calls made, by key: the kernel keeps the rest. */
  private readonly registered = new Map<string, Registered>();

  private constructor(
    protected readonly def: CodeWorkflowDefinition,
    store: InstanceStore,
    clock: Clock,
    options: DriverOptions,
  ) {
    super(store, clock, options);
  }

  static create(def: CodeWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions, instanceId: string, creation: Creation): CodeDriver {
    const driver = new CodeDriver(def, store, clock, options);
    driver.begin(instanceId, creation);
    return driver;
  }

  static load(def: CodeWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions): CodeDriver {
    const driver = new CodeDriver(def, store, clock, options);
    driver.reload();
    return driver;
  }

  wake(): void {
    this.wakeUp.rang();
    if (this.disposed) return;
    this.waking = true;
    this.background(() => {
      if (this.faultRetryAt !== undefined) this.reloadAfterFault();
      const { state } = this.kernel;
      if (this.expiry.due(state.book.ended, state.at, this.now())) return this.options.onExpired?.(this.summary());
      this.execute({ type: "wake" });
    });
    this.armWake();
    this.waking = false;
  }

  protected override stopAfterFault(): void {
    super.stopAfterFault();
    this.waiters.clear();
  }

  protected carryOut(decision: CodeDecision): void {
    this.settleWaiters();
    for (const effect of decision.effects) {
      switch (effect.type) {
        case "run.start":
          this.waiters.clear();
          this.startPass(effect.pass);
          break;
        case "step.run":
          this.startAttempt(effect.key, effect.attempt, effect.timeoutMs);
          break;
        case "steps.stop":
          this.abortAll(effect.reason);
          break;
        case "rollback.run":
          this.startHandler(effect.key, effect.attempt, effect.timeoutMs);
          break;
        case "saga.resume":
          // Once the replay has answered from the log every call it can: its handlers are registered by then.
          setTimeout(() => this.background(() => this.execute({ type: "saga.resume" })), 0);
          break;
        case "streams.collect":
          this.store.chunks.keepOnly(storedStreams(this.kernel.state.book));
          break;
      }
    }
    this.armWake();
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
    for (const [key, waiters] of this.waiters) {
      if (!this.answer(key)) continue;
      this.waiters.delete(key);
      // An answer each: a streamed output is a stream per reader.
      for (const waiter of waiters) {
        const answer = this.answer(key)!;
        if (answer.ok) waiter.resolve(answer.value);
        else waiter.reject(answer.error);
      }
    }
  }

  /** The log's answer to a call, if it has one, as run() receives it. */
  private answer(key: string): { ok: true; value: unknown } | { ok: false; error: Error } | undefined {
    const answer = logAnswer(this.kernel.state.book, key);
    if (!answer) return undefined;
    if (!answer.ok) return { ok: false, error: toRunError(answer.error) };
    if ("result" in answer) return { ok: true, value: this.outputOf(key, answer.result) };
    if ("slept" in answer) return { ok: true, value: undefined };
    const { type, payload, at } = answer.event;
    const event: WorkflowStepEvent<unknown> = { payload: payload as never, type, timestamp: new Date(at) };
    return { ok: true, value: event };
  }

  /** A settled step's value as run() receives it: a streamed output as a fresh stream of its stored rows, each time it is asked for. */
  private outputOf(key: string, result: Extract<StepResult, { ok: true }>): unknown {
    if (!("stream" in result)) return fromStructured(result);
    const { attempt } = result.stream;
    return replayStream(result.stream, (index) => this.store.chunks.read(key, attempt, index));
  }

  /** The answer to a call once the log has it; none, ever, for a call of an older pass. */
  private await<T>(key: string | undefined): Promise<T> {
    if (key === undefined) return never();
    const answer = this.answer(key);
    if (answer) return answer.ok ? Promise.resolve(answer.value as T) : Promise.reject(answer.error);
    return new Promise<T>((resolve, reject) => this.waiters.set(key, [...(this.waiters.get(key) ?? []), { resolve: resolve as (value: unknown) => void, reject }]));
  }

  /** One call of run()'s as a command: its key's answer, once the log has it. */
  private call<T>(command: CodeCommand, registered?: (decision: CodeDecision) => void): Promise<T> {
    const hooks = this.hooks();
    const key = this.execute(hooks ? modifiedCall(this.kernel.session, command, hooks) : command, registered).key;
    if (hooks && key !== undefined && command.type === "wait") this.deliverMockEvent(hooks, key, command.eventType as string);
    return this.await<T>(key);
  }

  /** An event a test mocked, delivered once to the first open wait for its type, before run() awaits it. */
  private deliverMockEvent(hooks: InstanceHooks, key: string, type: string): void {
    const wait = get(this.kernel.state.book.waits, key);
    const event = hooks.pendingEvents().find((pending) => pending.type === type);
    if (!wait || wait.outcome || !event) return;
    hooks.delivered(event);
    this.command({ type: "event", event: event.type, payload: event.payload });
  }

  private startPass(pass: number): void {
    const { book } = this.kernel.state;
    const live = () => pass === this.kernel.session.pass && !this.disposed;
    const api = stepApi(pass, {
      open: () => !this.disposed && callable(this.kernel, pass),
      call: (command, registered) => this.call(command, registered),
      register: (key, registered) => this.registered.set(key, registered),
    });

    // Cloudflare's params default to {}.
    const event = { payload: (book.params ?? {}) as never, timestamp: new Date(book.createdAt), instanceId: book.instanceId, workflowName: book.workflow, ...(book.schedule ? { schedule: book.schedule } : {}) };
    // A constructor that throws fails the run like run() throwing, rather than the request that started it.
    Promise.resolve()
      .then(() => new this.def.entrypoint!({ waitUntil: () => undefined } as never, this.options.env as never).run(event as never, api))
      .then(
        (output) => {
          if (live()) this.execute({ type: "run.completed", pass, output });
        },
        (error: unknown) => {
          if (live()) this.execute({ type: "run.failed", pass, error: errorInfo(error) });
        },
      )
      .catch((error: unknown) => this.fault(error));
  }

  private startAttempt(key: string, attempt: number, timeoutMs: number): void {
    const registered = this.registered.get(key)!;
    const { name, count } = this.kernel.session.calls.get(key)!;
    const ctx: WorkflowStepContext = { step: { name, count }, attempt, config: registered.config.publicConfig };
    const hooks = this.hooks();
    hooks?.sawStep({ key, name, count });
    const mock = hooks?.mockFor({ key, name, count }, attempt);
    const body = mock ? mockedBody(mock, timeoutMs) : () => registered.callback(ctx);
    const run = runAttempt(
      attempt,
      timeoutMs,
      this.clock,
      // A returned stream is read within the attempt, under its timeout.
      async (signal) => {
        const output = await body();
        if (!(output instanceof ReadableStream)) return { value: output };
        return storeStream(output, { chunks: this.store.chunks, key, attempt, limits: this.options.streamLimits ?? STREAM_LIMITS, signal });
      },
      (outcome) => this.settleAttempt(key, attempt, name, ctx, registered.config, outcome),
      (error) => this.fault(error),
    );
    this.running.set(key, run);
  }

  private async settleAttempt(key: string, attempt: number, name: string, ctx: WorkflowStepContext, config: ResolvedStepConfig, raw: RawOutcome): Promise<void> {
    const current = () => this.running.get(key)?.attempt === attempt && !this.disposed;
    if (!current()) return;
    let outcome: AttemptOutcome;
    if (raw.ok) {
      const output = raw.output as { value: unknown } | { stored: StoredStream; preview: string };
      outcome = "value" in output ? { ok: true, value: output.value } : { ok: true, stream: output.stored, preview: output.preview };
    } else {
      const fatal = streamFailure(raw.error, name);
      const error = errorInfo(raw.error);
      outcome = { ok: false, error, ...(fatal ? { fatal } : {}) };
      // The wait starts once the delay function has answered, as Cloudflare's does.
      if (!fatal && needsRetryDelay(this.kernel, key, error)) {
        // A test that disabled the step's retry delays answers for its delay function.
        const skipped = this.hooks()?.skipsRetryDelay({ key, name, count: ctx.step.count });
        outcome.delay = skipped ? { ms: 0 } : await retryDelayOf(config.delayFunction!, ctx, error, this.clock);
        if (!current()) return;
      }
    }
    this.running.delete(key);
    this.execute({ type: "step.result", key, attempt, outcome });
  }

  /** Runs one attempt of a rollback handler as a step of its own, with the timeout of its rollbackConfig. */
  private startHandler(key: string, attempt: number, timeoutMs: number): void {
    const { state, session } = this.kernel;
    const { book } = state;
    const saga = session.saga!;
    const handler = session.handlers.get(key)!;
    const fn = this.registered.get(key)!.undo!;
    const result = get(book.results, key);
    const argument = {
      ctx: { step: { name: handler.name, count: handler.count }, attempt: get(book.attempts, key) ?? 1, config: fn.forward },
      // Cloudflare hands a terminate's handlers a plain Error: its "Terminated" name is lost on the way.
      error: saga.trigger === "terminate" ? new Error(TERMINATED_FOR_ROLLBACK.message) : toRunError(saga.error),
      output: result?.ok ? this.outputOf(key, result) : undefined,
      stepName: `${handler.name}-${handler.count}`,
    };
    const slot = `rollback:${key}`;
    const run = runAttempt(
      attempt,
      timeoutMs,
      this.clock,
      () => fn.rollback(argument),
      (outcome) => {
        if (this.running.get(slot)?.attempt !== attempt || this.disposed) return;
        this.running.delete(slot);
        this.execute({ type: "rollback.result", key, attempt, ...(outcome.ok ? {} : { error: errorInfo(outcome.error) as ErrorInfo }) });
      },
      (error) => this.fault(error),
    );
    this.running.set(slot, run);
  }
}
