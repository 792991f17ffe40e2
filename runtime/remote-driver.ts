import SuperJSON from "superjson";
import { assertStepName, callOf, resolveStepConfig, type ResolvedStepConfig } from "../core/code/config";
import type { CodeCommand, CodeDecision, CodeEffect } from "../core/code/decide";
import type { CodeWorkflowDefinition } from "../core/code/definition";
import { logAnswer } from "../core/code/answers";
import { called, freshStepsLeft, replayOf, type Replay } from "../core/code/live";
import { nextCodeWake, type StepResult } from "../core/code/fold";
import type { WorkflowStepConfig } from "../core/code/types";
import type { Creation } from "../core/creation";
import { DurableMachinesError, LeaseLostError, NotSerializableError } from "../core/errors";
import type { Json } from "../core/json";
import { errorInfo } from "../core/planner";
import { TERMINATED_FOR_ROLLBACK } from "../core/saga";
import { get } from "../core/table";
import type { Clock } from "./clock";
import type { DriverOptions } from "./driver";
import { CodeShell } from "./code-shell";
import type { HostedInstance } from "./hosted";
import { WorkflowTimeoutError } from "./step-runner";
import type { InstanceStore } from "./store";
import { Waiters } from "./waiters";
import {
  waitDeadline,
  type CallsAnswer,
  type HeartbeatAnswer,
  type ReleaseAnswer,
  type WireAnswer,
  type WireAttempt,
  type WireCall,
  type WireDone,
  type WireTask,
  type WireValue,
  type WireWork,
} from "./python-workers";

/** How long a claimed task waits for its worker's first request before another worker may claim it. */
export const FIRST_CONTACT_MS = 5_000;

/** A Python delay function comes as `{ "function": true }`: the step's config resolves with a function in its place. */
function resolveWireConfig(name: string, config: Json | undefined): ResolvedStepConfig {
  const retries = (config as { retries?: { delay?: unknown } } | undefined)?.retries;
  const delayFunction = typeof retries?.delay === "object" && retries.delay !== null && (retries.delay as { function?: unknown }).function === true;
  const resolvable = delayFunction ? { ...(config as object), retries: { ...retries, delay: () => 0 } } : config;
  return resolveStepConfig(name, resolvable as WorkflowStepConfig | undefined);
}

/** Only datetimes cross from a worker with metadata; anything else it sends is refused before it is read. */
function fromWire(value: WireValue | undefined, what: string): unknown {
  if (value === undefined) return undefined;
  if (value.meta === undefined) return value.json;
  const only = (meta: unknown): boolean =>
    Array.isArray(meta) ? meta.length === 1 && meta[0] === "Date" : typeof meta === "object" && meta !== null && Object.values(meta).every(only);
  const values = (value.meta as { values?: unknown }).values;
  if (typeof value.meta !== "object" || value.meta === null || Object.keys(value.meta).some((key) => key !== "values" && key !== "v") || !only(values)) {
    throw new NotSerializableError(what, "its metadata", 'something other than datetimes ({ "values": { "<path>": ["Date"] } })');
  }
  return SuperJSON.deserialize({ json: value.json, meta: value.meta } as never);
}

/** As the in-object client gives a refusal to run(): a WorkflowFatalError with the message, any other error as it is. */
function refusal(error: unknown): WireAnswer {
  const info = errorInfo(error);
  return { refused: error instanceof DurableMachinesError ? { name: "WorkflowFatalError", message: info.message } : info };
}

/** A stored step output as a worker reads it; none for a streamed one, which no worker writes. */
function storedValue(result: Extract<StepResult, { ok: true }>): WireValue | null {
  if ("stream" in result) return null;
  return { json: result.output ?? null, ...(result.meta === undefined ? {} : { meta: result.meta }) };
}

/**
 * Runs a Python-served code-first instance: the engine's side of the worker
 * protocol (docs/python-protocol.md). It holds the same kernel as the
 * in-object driver; a worker process claims the instance under a lease,
 * replays run() by sending its calls as commands, runs the step bodies the
 * answers (and the work items) tell it to, and lets the pass go when run()
 * can only wait. The engine keeps the timeouts, retries and timers.
 */
export class RemoteCodeDriver extends CodeShell implements HostedInstance {
  /**
   * The worker's lease. `checkAt` is when the instance next looks whether it lapsed: the expiry it had when that time
   * was set. A renewal moves the expiry but not the check, since moving a Durable Object's alarm is a storage write
   * and a worker renews with every request; at the check, a lease renewed meanwhile sets the next one.
   */
  private lease: { token: string; pass: number; expiresAt: number; checkAt: number } | undefined;
  /** A pass wants a worker: queued for a claim. */
  private wanted = false;
  /** What the worker is to do now, told with its next answer: attempts and handlers, by key. */
  private work: ({ type: "run"; key: string; attempt: number; timeoutMs: number } | Extract<WireWork, { type: "rollback" }>)[] = [];
  /** Keys the worker was told are pending in this pass: an answer the log gains for one (an event, a timer) needs a replay to reach run(). */
  private readonly pendingKeys = new Set<string>();
  /** Each step call's config as its body's ctx shows it, by key. */
  private readonly configs = new Map<string, Json>();
  /** The timeout of each attempt or handler a worker runs, by key. */
  private readonly timeouts = new Map<string, { attempt: number; cancel(): void }>();
  private leaseSeq = 0;
  /** How far the pass is from having caught up with the log: once it has, a step call may bring its first attempt's outcome. */
  private replay: Replay = { from: 0, behind: Infinity };
  /** Heartbeats waiting for work or the pass's end. */
  private readonly waiters: Waiters;

  private constructor(
    protected readonly def: CodeWorkflowDefinition & { python: { leaseMs: number } },
    store: InstanceStore,
    clock: Clock,
    options: DriverOptions,
  ) {
    super(store, clock, options);
    this.waiters = new Waiters(clock);
  }

  static create(def: CodeWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions, instanceId: string, creation: Creation): RemoteCodeDriver {
    const driver = new RemoteCodeDriver(def as never, store, clock, options);
    driver.begin(instanceId, creation);
    return driver;
  }

  static load(def: CodeWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions): RemoteCodeDriver {
    const driver = new RemoteCodeDriver(def as never, store, clock, options);
    driver.reload();
    return driver;
  }

  /** The shell's next wake, or the lease's end if that comes first: a worker gone quiet loses the pass then. */
  protected override nextWake(): number | undefined {
    const at = super.nextWake();
    return this.lease && (at === undefined || this.lease.checkAt < at) ? this.lease.checkAt : at;
  }

  wake(): void {
    this.wakeUp.rang();
    if (this.disposed) return;
    this.waking = true;
    try {
      if (this.faultRetryAt !== undefined) this.reload();
      const { state } = this.kernel;
      if (this.expiry.due(state.book.ended, state.at, this.clock.now())) return this.options.onExpired?.(this.summary());
      // A worker that went quiet loses the pass: another replays run() from the top.
      if (this.lease && this.lease.expiresAt <= this.clock.now()) {
        this.letGo();
        this.execute({ type: "pass.new" });
      } else if (this.lease) this.lease.checkAt = this.lease.expiresAt;
      this.execute({ type: "wake" });
      // Something due that only a replay can take up (a retry of a step no pass has called): a pass for it.
      const { book } = this.kernel.state;
      const due = (nextCodeWake(book) ?? Infinity) <= this.clock.now();
      if (due && !this.lease && !this.wanted && !book.ended && !book.paused) this.execute({ type: "pass.new" });
      // Still unclaimed at a keep-alive ring: the host's queue may have lost the instance (a failed report, an eviction).
      else if (this.wanted) this.options.onWanted?.(book.workflow, book.instanceId);
    } catch (error) {
      this.fault(error);
    } finally {
      this.armWake();
      this.waking = false;
    }
  }

  /** A worker claims the instance, if a pass wants one: the task it runs, under a new lease. */
  claim(): WireTask | undefined {
    if (!this.wanted || this.disposed) return undefined;
    this.wanted = false;
    const { book } = this.kernel.state;
    const token = `${this.kernel.session.pass}.${++this.leaseSeq}.${this.ulid(this.clock.now())}`;
    // Until the worker's first request the lease is short: a claim whose worker hung up (or died) before it heard
    // of the task gives the instance back within seconds, not a whole lease later.
    const expiresAt = this.clock.now() + Math.min(this.def.python.leaseMs, FIRST_CONTACT_MS);
    this.lease = { token, pass: this.kernel.session.pass, expiresAt, checkAt: expiresAt };
    this.armWake();
    return {
      workflow: book.workflow,
      instanceId: book.instanceId,
      lease: token,
      leaseMs: this.def.python.leaseMs,
      // Params are stored as plain JSON: a value on the wire with no metadata. Cloudflare's default is {}.
      event: { payload: { json: book.params ?? {} }, timestamp: book.createdAt, instanceId: book.instanceId, workflowName: book.workflow },
    };
  }

  /** A worker's calls, in order, each answered once its records are durable. */
  calls(token: string, calls: readonly WireCall[]): CallsAnswer {
    this.renew(token);
    const answers = calls.map((call) => this.answerCall(call));
    const steps = this.passOver(token) ? 0 : freshStepsLeft(this.replay, this.kernel, this.def.stepLimit);
    return { answers, ...this.takeWork(token), ...(steps > 0 ? { live: { steps } } : {}) };
  }

  /**
   * Renews the lease, then waits for work or the pass's end, up to `waitMs` and never past half the lease, so that a
   * worker hears of a retry that came due at once without asking over and over.
   */
  async heartbeat(token: string, waitMs = 0): Promise<HeartbeatAnswer> {
    this.renew(token);
    const deadline = waitDeadline(this.clock.now(), waitMs, this.def.python.leaseMs / 2);
    while (!this.work.length && !this.passOver(token) && this.clock.now() < deadline) await this.waiters.until(deadline);
    // Waiting kept the worker from sending anything: the lease runs from the answer.
    if (!this.passOver(token)) this.renew(token);
    return { ...this.takeWork(token), leaseMs: this.def.python.leaseMs };
  }

  /**
   * The worker lets the pass go: run() can only wait. What the pass started stops; something new queues the instance
   * again. But a saga the log has under way (the engine went down in it) waits for a replay's handlers, and a replay
   * that can only wait has made every call it will: the saga resumes in this pass, under the same lease.
   */
  release(token: string): ReleaseAnswer {
    this.renew(token);
    const { book } = this.kernel.state;
    if (book.rollback && !book.rollback.finished && !book.ended && !this.kernel.session.saga) {
      this.execute({ type: "saga.resume" });
      return this.takeWork(token);
    }
    // Attempts the worker was given (or is yet to be told of) and never reported are lost with the pass, as in a
    // crash; and a call it was told is pending may have its answer by now (an event came, a timer fired while it
    // held the pass). Either way a new pass goes at once.
    const abandoned = this.kernel.session.running.size > 0 || this.work.length > 0;
    const answered = [...this.pendingKeys].some((key) => logAnswer(book, key) !== undefined);
    this.letGo();
    this.execute({ type: abandoned || answered ? "pass.new" : "pass.end" });
    return { work: [], end: true };
  }

  private renew(token: string): void {
    const { lease } = this;
    const now = this.clock.now();
    if (!lease || this.passOver(token) || lease.expiresAt <= now) {
      if (lease?.token === token) this.letGo();
      throw new LeaseLostError(this.kernel.state.book.instanceId);
    }
    lease.expiresAt = now + this.def.python.leaseMs;
    this.armWake();
  }

  private letGo(): void {
    this.lease = undefined;
    this.work = [];
    this.pendingKeys.clear();
    this.notify();
  }

  /** The pass this token leased is over for its worker: fenced, ended, or the run is. */
  private passOver(token: string): boolean {
    const lease = this.lease;
    return this.disposed || !lease || lease.token !== token || lease.pass !== this.kernel.session.pass || this.kernel.state.book.ended !== null;
  }

  /** The work for the token's worker; none once its pass is over, when the work (if any) is another pass's. */
  private takeWork(token: string): { work: WireWork[]; end: boolean } {
    if (this.passOver(token)) return { work: [], end: true };
    const work = this.work.map((item): WireWork => (item.type === "run" ? { type: "run", key: item.key, attempt: this.attemptOf(item.key, item.attempt, item.timeoutMs) } : item));
    this.work = [];
    return { work, end: false };
  }

  /** Work came, or the pass changed: waiting heartbeats look again. */
  private notify(): void {
    this.waiters.wakeAll();
  }

  private answerCall(call: WireCall): WireAnswer {
    const pass = this.kernel.session.pass;
    let decision: CodeDecision;
    let config: ResolvedStepConfig | undefined;
    try {
      if (call.type === "step") {
        assertStepName(call.name);
        config = resolveWireConfig(call.name, call.config);
      }
      decision = this.execute(this.toCommand(call, pass, config));
    } catch (error) {
      return refusal(error);
    }
    if (decision.key !== undefined && call.type !== "result") called(this.replay, this.kernel, decision.key);
    if (config && decision.key !== undefined) this.configs.set(decision.key, config.publicConfig as Json);
    switch (call.type) {
      case "step":
        if (decision.key !== undefined && call.done && this.startedFirst(decision, call.done)) return this.fuse(decision.key, call.done);
        return decision.key === undefined ? { stale: true } : this.answerFor(decision.key, decision.effects);
      case "sleep":
      case "sleepUntil":
      case "wait":
        return decision.key === undefined ? { stale: true } : this.answerFor(decision.key, decision.effects);
      case "result":
        return this.answerFor(call.key, decision.effects);
      default:
        return { ok: true };
    }
  }

  /** The call started attempt 1 of its key, numbered as the worker numbered the body it ran: its outcome is that attempt's. */
  private startedFirst(decision: CodeDecision, done: WireDone): boolean {
    const key = decision.key!;
    const started = decision.effects.some((effect) => effect.type === "step.run" && effect.key === key && effect.attempt === 1);
    return started && this.kernel.session.calls.get(key)?.count === done.count;
  }

  /** A step's call and its first attempt's outcome, taken together: one commit, and the answer a result gets. */
  private fuse(key: string, done: WireDone): WireAnswer {
    this.work = this.work.filter((item) => !(item.type === "run" && item.key === key));
    const { count: _, ...outcome } = done;
    const result = { type: "result", key, attempt: 1, ...outcome } as Extract<WireCall, { type: "result" }>;
    try {
      return this.answerFor(key, this.execute(this.toCommand(result, this.kernel.session.pass, undefined)).effects);
    } catch (error) {
      // The output cannot be kept (too large, say): the call was taken, and the result is refused as a `result` call's is.
      return refusal(error);
    }
  }

  private toCommand(call: WireCall, pass: number, config: ResolvedStepConfig | undefined): CodeCommand {
    switch (call.type) {
      case "step": {
        const handler = call.rollback ? callOf(resolveWireConfig(call.name, call.rollback.config)) : undefined;
        return { type: "step.call", pass, name: call.name, call: callOf(config!), ...(handler ? { handler } : {}) };
      }
      case "result": {
        this.stopTimeout(call.key, call.attempt);
        if (call.ok) return { type: "step.result", key: call.key, attempt: call.attempt, outcome: { ok: true, value: fromWire(call.value, `the output of step "${call.key}"`) } };
        return { type: "step.result", key: call.key, attempt: call.attempt, outcome: { ok: false, error: call.error, ...(call.delay ? { delay: call.delay } : {}), ...(call.fatal ? { fatal: call.fatal } : {}) } };
      }
      case "sleep":
        return { type: "sleep", pass, name: call.name, ms: call.ms };
      case "sleepUntil":
        return { type: "sleep.until", pass, name: call.name, at: call.at };
      case "wait":
        return { type: "wait", pass, name: call.name, eventType: call.eventType, ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }) };
      case "completed":
        return { type: "run.completed", pass, output: fromWire(call.output, "the workflow's output") };
      case "failed":
        return { type: "run.failed", pass, error: call.error };
      case "rollbackResult":
        this.stopTimeout(`rollback:${call.key}`, call.attempt);
        return { type: "rollback.result", key: call.key, attempt: call.attempt, ...(call.error ? { error: call.error } : {}) };
    }
  }

  /** What the log (or this decision) says of a key: its value or error, an attempt to run now, or nothing yet. */
  private answerFor(key: string, effects: readonly CodeEffect[]): WireAnswer {
    this.pendingKeys.delete(key);
    const answer = logAnswer(this.kernel.state.book, key);
    if (answer) {
      if (!answer.ok) return { key, error: answer.error };
      if ("result" in answer) return { key, value: storedValue(answer.result) };
      if ("slept" in answer) return { key, value: null };
      const { type, payload, at } = answer.event;
      return { key, value: { json: { type, payload: payload ?? null, timestamp: new Date(at).toISOString() }, meta: { values: { timestamp: ["Date"] } } } };
    }
    const run = effects.find((effect): effect is Extract<CodeEffect, { type: "step.run" }> => effect.type === "step.run" && effect.key === key);
    if (run) {
      // Told in this answer, not again as work.
      this.work = this.work.filter((item) => !(item.type === "run" && item.key === key));
      return { key, run: this.attemptOf(key, run.attempt, run.timeoutMs) };
    }
    this.pendingKeys.add(key);
    return { key, pending: true };
  }

  private attemptOf(key: string, attempt: number, timeoutMs: number): WireAttempt {
    const call = this.kernel.session.calls.get(key)!;
    return { attempt, ctx: { step: { name: call.name, count: call.count }, attempt, config: this.configs.get(key) ?? null }, timeoutMs };
  }

  protected override execute(command: CodeCommand): CodeDecision {
    const pass = this.kernel?.session.pass;
    const decision = super.execute(command);
    // A saga starts a pass that run() gets no answers in; the worker that held the pass holds the handlers, so its
    // lease goes on into the saga's pass and the rollback work goes to it.
    if (this.lease && this.lease.pass === pass && this.kernel.session.saga && this.kernel.session.pass !== pass) this.lease.pass = this.kernel.session.pass;
    // A pass no worker holds goes again once something new happened: the replay gets the answers the last one lacked.
    const { book } = this.kernel.state;
    if (decision.records.length && !this.lease && !this.wanted && !book.ended && !book.paused && command.type !== "pass.new" && command.type !== "pass.end") this.execute({ type: "pass.new" });
    return decision;
  }

  protected carryOut(decision: CodeDecision): void {
    for (const effect of decision.effects) {
      switch (effect.type) {
        case "run.start":
          this.replay = replayOf(this.kernel);
          this.letGo();
          this.clearTimeouts();
          this.wanted = true;
          this.options.onWanted?.(this.kernel.state.book.workflow, this.kernel.state.book.instanceId);
          break;
        case "step.run":
          this.startTimeout(effect.key, effect.attempt, effect.timeoutMs, () => ({ type: "step.result", key: effect.key, attempt: effect.attempt, outcome: { ok: false, error: errorInfo(new WorkflowTimeoutError(effect.timeoutMs)) } }));
          this.work.push({ type: "run", key: effect.key, attempt: effect.attempt, timeoutMs: effect.timeoutMs });
          break;
        case "steps.stop":
          this.clearTimeouts();
          this.work = [];
          break;
        case "rollback.run": {
          const { state, session } = this.kernel;
          const { book } = state;
          const saga = session.saga!;
          const handler = session.handlers.get(effect.key)!;
          const result = get(book.results, effect.key);
          this.startTimeout(`rollback:${effect.key}`, effect.attempt, effect.timeoutMs, () => ({ type: "rollback.result", key: effect.key, attempt: effect.attempt, error: errorInfo(new WorkflowTimeoutError(effect.timeoutMs)) }));
          this.work.push({
            type: "rollback",
            key: effect.key,
            attempt: effect.attempt,
            ctx: { step: { name: handler.name, count: handler.count }, attempt: get(book.attempts, effect.key) ?? 1, config: this.configs.get(effect.key) ?? null },
            error: saga.trigger === "terminate" ? { name: "Error", message: TERMINATED_FOR_ROLLBACK.message } : saga.error,
            output: result?.ok ? storedValue(result) : null,
            timeoutMs: effect.timeoutMs,
          });
          break;
        }
        case "saga.resume":
        case "streams.collect":
          // A remote replay's handlers are registered once its run() ends or it lets the pass go (release()); no streams cross.
          break;
      }
    }
    this.armWake();
    this.notify();
  }

  /** An instance waiting for a worker stays awake, so that it is queued again if its host's queue lost it. */
  protected override busy(): boolean {
    return this.wanted || super.busy();
  }

  private startTimeout(slot: string, attempt: number, timeoutMs: number, command: () => CodeCommand): void {
    this.stopTimeout(slot);
    const cancel = this.clock.setTimer(this.clock.now() + timeoutMs, () => {
      this.timeouts.delete(slot);
      try {
        this.execute(command());
      } catch (error) {
        this.fault(error);
      }
    });
    this.timeouts.set(slot, { attempt, cancel });
  }

  private stopTimeout(slot: string, attempt?: number): void {
    const timeout = this.timeouts.get(slot);
    if (!timeout || (attempt !== undefined && timeout.attempt !== attempt)) return;
    timeout.cancel();
    this.timeouts.delete(slot);
  }

  private clearTimeouts(): void {
    for (const timeout of this.timeouts.values()) timeout.cancel();
    this.timeouts.clear();
  }

  override dispose(): void {
    super.dispose();
    this.clearTimeouts();
    this.notify();
  }

  protected override stopAfterFault(): void {
    super.stopAfterFault();
    this.clearTimeouts();
    this.letGo();
  }
}
