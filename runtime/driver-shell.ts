import { monotonicFactory } from "ulid";
import type { Ending } from "../core/state";
import type { Clock } from "./clock";
import type { DriverOptions } from "./driver";
import { FAULT_RETRY_MS, logFault } from "./host-fault";
import { Expiry } from "./retention";
import type { RunningAttempt } from "./step-runner";
import type { InstanceStore } from "./store";
import type { InstanceHooks } from "./test-hooks";
import { WakeUp } from "./wake";

/** What the shell reads of any form's folded state. */
export interface ShellState {
  seq: number;
  at: number;
  book: { workflow: string; instanceId: string; ended: Ending | null };
}

/**
 * The part of a driver every form shares: ids and time for its kernel, the
 * attempts in flight, the wake-up (timers, retries, the keep-alive while
 * attempts run, retention), host faults (log, stop, reload from the log after
 * FAULT_RETRY_MS through the wake-up) and disposal. A form's driver adds its
 * kernel: it decides commands and carries out their effects.
 */
export abstract class DriverShell<State extends ShellState> {
  protected readonly running = new Map<string, RunningAttempt>();
  /** Typed here, not inferred, so the declarations do not import ulid's, which need Node's types. */
  protected readonly ulid: (seedTime: number) => string = monotonicFactory();
  protected readonly wakeUp: WakeUp;
  protected readonly expiry: Expiry;
  protected disposed = false;
  /** When a driver that met a host fault reloads from its log (host-fault.ts). */
  protected faultRetryAt: number | undefined;
  /** A wake the test's hooks made due now is queued (see armWake). */
  private wakeQueued = false;

  protected constructor(
    protected readonly store: InstanceStore,
    protected readonly clock: Clock,
    protected readonly options: DriverOptions,
  ) {
    this.wakeUp = new WakeUp(clock, options.alarm, () => {
      if (!this.disposed) this.wake();
    });
    this.expiry = new Expiry(store);
  }

  protected abstract get folded(): State | undefined;
  /** The next timer, retry or handler retry the instance waits on. */
  protected abstract nextWake(): number | undefined;
  abstract wake(): void;

  /** Settles once no attempt is in flight (new attempts started meanwhile included). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()].map((run) => run.done));
  }

  idleNow(): boolean {
    return this.running.size === 0;
  }

  /** Forgets everything in memory and stops all work, as a crash would. */
  dispose(): void {
    this.disposed = true;
    this.wakeUp.cancel();
    this.abortAll("The instance's host went away.");
  }

  /** The kernel's time: the clock's, never before the last record. */
  protected now(): number {
    return Math.max(this.clock.now(), this.folded?.at ?? 0);
  }

  protected abortAll(reason: string): void {
    const runs = [...this.running.values()];
    this.running.clear();
    for (const run of runs) run.controller.abort(new Error(reason));
  }

  /** A host fault: log it, stop all work (in memory the instance may be ahead of its log), and reload from the log when the wake-up rings. */
  protected fault(error: unknown): void {
    // An instance being created has nothing to reload: its create fails instead.
    const state = this.folded;
    if (this.disposed || this.faultRetryAt !== undefined || !state) return;
    this.faultRetryAt = this.clock.now() + FAULT_RETRY_MS;
    logFault(state.book, error);
    this.stopAfterFault();
    this.armWake();
  }

  protected stopAfterFault(): void {
    this.abortAll("The instance reloads from its log after a fault.");
  }

  protected armWake(): void {
    if (this.disposed) return this.wakeUp.arm(undefined, false);
    if (this.faultRetryAt !== undefined) return this.wakeUp.arm(this.faultRetryAt, true);
    const state = this.folded!;
    const next = this.nextWake();
    this.wakeUp.arm(next, this.busy(), this.expiry.at(state.book.ended, state.at));
    // A sleep, retry delay or event wait a test cut short is due now: a manual clock fires nothing until it is moved,
    // and an alarm set to now still waits its turn, so the wake comes on the next microtask.
    if (next !== undefined && next <= this.now() && this.hooks()) this.wakeSoon();
  }

  private wakeSoon(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      if (!this.disposed) this.wake();
    });
  }

  /** What a test set on this instance (runtime/test-hooks.ts); undefined, as in production, when nothing. */
  protected hooks(): InstanceHooks | undefined {
    const book = this.folded?.book;
    return book && this.options.testHooks?.instance(book.workflow, book.instanceId);
  }

  /** Whether the host should keep the instance awake even with no timer due: on the object host, a keep-alive alarm. */
  protected busy(): boolean {
    return this.running.size > 0;
  }
}
