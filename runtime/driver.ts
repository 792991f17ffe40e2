import type { StreamLimits } from "../core/code/streams";
import { create, decide, type Command, type Decision, type DecideContext, type Effect } from "../core/decide";
import type { Creation } from "../core/creation";
import type { WorkflowDefinition } from "../core/definition";
import { fold } from "../core/fold";
import { errorInfo } from "../core/planner";
import { explainMutation } from "../core/frozen-context";
import { isMachineInput, type LogRecord } from "../core/records";
import { persist, restore, type PersistedState } from "../core/snapshot";
import type { InstanceState } from "../core/state";
import { nextWake, statusName, statusOf, type InstanceStatus } from "../core/status";
import type { Instant } from "../core/time-travel";
import type { Clock } from "./clock";
import type { HostedInstance, InstanceSummaryState } from "./hosted";
import { DriverShell } from "./driver-shell";
import { runAttempt } from "./step-runner";
import { instantAfter } from "./time-travel";
import { dueEarly, machineStep } from "./machine-test-hooks";
import { mockedBody } from "./mocked-step";
import type { InstanceStore, ReadRange } from "./store";
import type { TestHooks } from "./test-hooks";

/** A durable wake-up, such as a Durable Object's alarm: one at a time, the latest `set` wins. */
export interface Alarm {
  /** `at` is the next timer or retry (none when undefined); `busy` says step attempts are in flight. */
  set(at: number | undefined, busy: boolean): void;
}

export interface DriverOptions {
  /** A snapshot after this many machine inputs bounds recovery by the tail, not the whole log. */
  snapshotEvery: number;
  /** Handed to every step body: the Worker's bindings on the Durable Object host. */
  env?: unknown;
  /** Durable wake-ups; the host calls `wake()` when it rings. Without one, the clock's timers wake the driver. */
  alarm?: Alarm;
  /** Told of every batch once it is durable: registries, live inspection. */
  onAppend?(records: readonly LogRecord[], summary: InstanceSummaryState): void;
  /** A user action threw; the instance carries on, since replay never runs actions. */
  onActionError?(error: unknown, action: string): void;
  /** The finished instance's retention ran out: the host deletes it as `delete()` would. */
  onExpired?(summary: InstanceSummaryState): void;
  /** A Python-served instance came to want a worker (docs/python-protocol.md): the host queues it for a claim, again while it still does. */
  onWanted?(workflow: string, instanceId: string): void;
  /** Limits on code-first steps' ReadableStream outputs; Cloudflare's when unset. */
  streamLimits?: StreamLimits;
  /** What tests set on instances (runtime/test-hooks.ts): mocked steps, skipped sleeps and retry delays, events. */
  testHooks?: TestHooks;
}

/**
 * Runs one machine instance over any store and clock: decides each command,
 * appends its records, then carries out its effects. Everything it knows it
 * can rebuild from the store, so dropping a driver loses nothing.
 */
export class InstanceDriver extends DriverShell<InstanceState> implements HostedInstance {
  private inputsSinceSnapshot = 0;

  private constructor(
    readonly def: WorkflowDefinition,
    store: InstanceStore,
    clock: Clock,
    options: DriverOptions,
    private state: InstanceState,
  ) {
    super(store, clock, options);
  }

  /** Creates the instance: its first records, then its first steps and timers. */
  static create(def: WorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions, instanceId: string, creation: Creation): InstanceDriver {
    const probe = new InstanceDriver(def, store, clock, options, undefined as unknown as InstanceState);
    const decision = create(def, instanceId, creation, probe.context());
    probe.state = decision.state;
    // Before the first step starts: a test watching the whole workflow gets its say on it.
    options.testHooks?.created(def.name, instanceId);
    try {
      probe.commit(decision);
    } catch (error) {
      // The create fails: nothing is left running for an instance its caller was told does not exist.
      probe.dispose();
      throw error;
    }
    return probe;
  }

  /** Rebuilds the instance from its newest snapshot and the log after it, then restarts cut-off steps and re-arms timers. */
  static load(def: WorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions): InstanceDriver {
    const driver = new InstanceDriver(def, store, clock, options, undefined as unknown as InstanceState);
    driver.reload();
    return driver;
  }

  protected get folded(): InstanceState | undefined {
    return this.state;
  }

  protected nextWake(): number | undefined {
    const hooks = this.hooks();
    return hooks && dueEarly(this.def, this.state, hooks, this.now()) ? this.now() : nextWake(this.state);
  }

  /** The state from the log, then the steps a stop cut off started again and the timers armed. */
  private reload(): void {
    this.faultRetryAt = undefined;
    this.inputsSinceSnapshot = 0;
    try {
      this.state = this.stateBefore(Infinity);
    } catch (error) {
      this.fault(error);
      throw error;
    }
    this.command({ type: "recover" });
  }

  get current(): InstanceState {
    return this.state;
  }

  status(): InstanceStatus {
    return statusOf(this.state);
  }

  summary(): InstanceSummaryState {
    const { book } = this.state;
    return { workflow: book.workflow, instanceId: book.instanceId, createdAt: book.createdAt, updatedAt: this.state.at, seq: this.state.seq, status: statusName(this.state) };
  }

  history(range: ReadRange = {}): LogRecord[] {
    return this.store.read(range);
  }

  stateAfter(after: unknown): Instant {
    return instantAfter(this.def, this.store, this.state.seq, after);
  }

  /** Decides and carries out one command; a refusal throws and leaves the log as it was. */
  command(command: Command): Decision {
    if (this.disposed) throw new Error("This instance driver was disposed; get the instance again.");
    if (this.faultRetryAt !== undefined) this.reload();
    const decision = decide(this.def, this.stateFor(command), this.resolve(command), this.context());
    this.state = decision.state;
    this.commit(decision);
    return decision;
  }

  /** The host's alarm rang: fire what is due and set the next one, or hand a finished instance whose retention ran out to the host. */
  wake(): void {
    this.wakeUp.rang();
    try {
      if (this.faultRetryAt !== undefined) this.reload();
      if (this.expiry.due(this.state.book.ended, this.state.at, this.clock.now())) return this.options.onExpired?.(this.summary());
      this.command({ type: "wake" });
    } catch (error) {
      // Nothing waits on a wake-up to hear of its failure: the fault is logged and the wake-up tries again.
      this.fault(error);
    }
  }

  /** The state a command is decided against: for a wake, with the timers and retries a test cut short due now. */
  private stateFor(command: Command): InstanceState {
    const hooks = command.type === "wake" ? this.hooks() : undefined;
    return (hooks && dueEarly(this.def, this.state, hooks, this.now())) ?? this.state;
  }

  /** The events a test mocked, each delivered once, when the machine can take it: not held early by a state that only passes by. */
  private deliverMockEvents(): void {
    const hooks = this.hooks();
    const { book, machine } = this.state;
    if (!hooks || book.ended || book.paused) return;
    const event = hooks.pendingEvents().find(({ type, payload }) => machine.can({ type, payload } as never));
    if (!event) return;
    hooks.delivered(event);
    queueMicrotask(() => {
      if (!this.disposed) this.command({ type: "event", event: event.type, payload: event.payload });
    });
  }

  private resolve(command: Command): Command {
    if (command.type !== "restart" || command.from === undefined) return command;
    // A `from` that is not a key is refused by decide(); the store is only asked about keys.
    return { ...command, cut: typeof command.from === "string" ? this.store.firstStart(command.from) : undefined };
  }

  private context(): DecideContext {
    const now = this.now();
    return { now, nextId: () => this.ulid(now), stateBefore: (seq) => this.stateBefore(seq) };
  }

  private stateBefore(seq: number): InstanceState {
    const snapshot = this.store.snapshot(seq);
    const tail = this.store.read({ after: snapshot?.seq ?? 0, before: seq });
    return fold(this.def, tail, snapshot && restore(this.def, snapshot as PersistedState), { stateBefore: (cut) => this.stateBefore(cut) });
  }

  /** A write that throws is a host fault: the caller gets the error, and the driver reloads from its log (host-fault.ts). */
  private commit(decision: Decision): void {
    if (decision.records.length) {
      try {
        this.store.append(decision.records);
        this.inputsSinceSnapshot += decision.records.filter(isMachineInput).length;
        if (this.inputsSinceSnapshot >= this.options.snapshotEvery) {
          this.store.saveSnapshot(persist(this.def, this.state));
          this.inputsSinceSnapshot = 0;
        }
        this.options.onAppend?.(decision.records, this.summary());
        this.hooks()?.appended();
      } catch (error) {
        this.fault(error);
        throw error;
      }
    }
    for (const effect of decision.effects) this.carryOut(effect);
    this.armWake();
    this.deliverMockEvents();
  }

  private carryOut(effect: Effect): void {
    switch (effect.type) {
      case "step.stop": {
        const run = this.running.get(effect.key);
        this.running.delete(effect.key);
        run?.controller.abort(new Error("The step's state was left before it finished."));
        break;
      }
      case "action.run":
        try {
          effect.action.exec?.(effect.action.info, effect.action.params);
        } catch (error) {
          this.options.onActionError?.(this.def.freezeContext ? explainMutation(this.def.name, error) : error, effect.action.type);
        }
        break;
      case "step.run": {
        const { key, attempt } = effect;
        const body = this.def.stepBody(effect.src);
        const env = this.options.env;
        const hooks = this.hooks();
        const step = machineStep(effect);
        hooks?.sawStep(step);
        const mock = hooks?.mockFor(step, attempt);
        const run = runAttempt(
          attempt,
          effect.timeoutMs,
          this.clock,
          mock ? mockedBody(mock, effect.timeoutMs) : (signal) => body({ input: effect.input, stepId: key, attempt, signal, env }),
          (outcome) => {
            if (this.disposed || this.running.get(key)?.attempt !== attempt) return;
            this.running.delete(key);
            this.command({ type: "step.result", key, attempt, outcome: outcome.ok ? outcome : { ok: false, error: errorInfo(outcome.error) } });
          },
          (error) => this.fault(error),
        );
        this.running.set(key, run);
        break;
      }
    }
  }
}
