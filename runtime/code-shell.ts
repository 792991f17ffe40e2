import { createCode, decideCode, loadedKernel, type CodeCommand, type CodeDecision, type CodeKernel } from "../core/code/decide";
import type { CodeWorkflowDefinition } from "../core/code/definition";
import { foldCode, nextCodeWake, type CodeState } from "../core/code/fold";
import { codeStatusName, codeWaitingOn } from "../core/code/status";
import type { Creation } from "../core/creation";
import type { LogRecord } from "../core/records";
import { redacted } from "../core/records";
import type { InstanceStatus } from "../core/status";
import type { Instant } from "../core/time-travel";
import { snapshotDue } from "./code-snapshots";
import { DriverShell } from "./driver-shell";
import type { InstanceCommand, InstanceSummaryState } from "./hosted";
import type { ReadRange } from "./store";
import { instantAfter } from "./time-travel";

/**
 * What every client of the code-first kernel does alike, whether run() runs in
 * the object (code-driver.ts) or in a worker process (remote-driver.ts): it
 * holds the kernel, decides each command, writes the decision's records (with
 * snapshots), and reads the instance's status and history from the kernel.
 * A client adds where run() runs: how it carries out the effects.
 */
export abstract class CodeShell extends DriverShell<CodeState> {
  protected kernel!: CodeKernel;
  private recordsSinceSnapshot = 0;
  /** Set while wake() runs; see nextWake. */
  protected waking = false;

  protected abstract readonly def: CodeWorkflowDefinition;
  /** Carries out a decision's effects, once its records are durable. */
  protected abstract carryOut(decision: CodeDecision): void;

  protected get folded(): CodeState | undefined {
    return this.kernel?.state;
  }

  /** The first record, written before anything runs; a failed write fails the create and leaves nothing running. */
  protected begin(instanceId: string, creation: Creation): void {
    const now = this.clock.now();
    const { kernel, decision } = createCode(this.def, instanceId, creation, { now, nextId: () => this.ulid(now) });
    try {
      this.store.append(decision.records);
    } catch (error) {
      this.dispose();
      throw error;
    }
    this.kernel = kernel;
    // Before run() starts: a test watching the whole workflow gets its say on it.
    this.options.testHooks?.created(this.def.name, instanceId);
    this.options.onAppend?.(decision.records, this.summary());
    this.hooks()?.appended();
    this.carryOut(decision);
  }

  /**
   * What wake() found due and left is what only a replay of run() can take up (a retry whose step it has not reached
   * yet, a saga it has not resumed yet), and it does so as it gets there: waking again for it would do nothing, and on
   * a manual clock, whose timers fire before any promise settles, would do it forever.
   */
  protected nextWake(): number | undefined {
    return nextCodeWake(this.kernel.state.book, this.waking ? this.now() : undefined);
  }

  /** Everything from the log, as a fresh object does: the state, then `recover` (a new pass, a saga taken up). */
  protected reload(): void {
    this.faultRetryAt = undefined;
    this.recordsSinceSnapshot = 0;
    this.kernel = loadedKernel(this.stateBefore(Infinity));
    this.execute({ type: "recover" });
  }

  summary(): InstanceSummaryState {
    const { state } = this.kernel;
    return { workflow: state.book.workflow, instanceId: state.book.instanceId, createdAt: state.book.createdAt, updatedAt: state.at, seq: state.seq, status: codeStatusName(state.book) };
  }

  status(): InstanceStatus {
    const { book } = this.kernel.state;
    const status: InstanceStatus = { status: codeStatusName(book), value: codeWaitingOn(book) };
    if (book.ended?.status === "complete" && book.ended.output !== undefined) status.output = book.ended.output;
    if (book.ended?.status === "errored") status.error = { name: book.ended.error.name, message: book.ended.error.message };
    return status;
  }

  /** The log as readers see it: a sensitive step's output shows as "[REDACTED]" (replay reads the store, which keeps it). */
  history(range: ReadRange = {}): LogRecord[] {
    return this.store.read(range).map(redacted);
  }

  /** The instance as it stood after record `after`, folded as recovery folds it (see instantAfter). */
  stateAfter(after: unknown): Instant {
    return instantAfter(this.def, this.store, this.kernel.state.seq, after);
  }

  command(command: InstanceCommand): void {
    if (this.faultRetryAt !== undefined) this.reloadAfterFault();
    if (command.type === "restart") this.execute({ type: "restart", ...(command.from === undefined ? {} : { from: command.from }) });
    else this.execute(command);
  }

  protected reloadAfterFault(): void {
    try {
      this.reload();
    } catch (error) {
      this.fault(error);
      throw error;
    }
  }

  /** Decides a command, writes its records, then carries out its effects; `registered` runs between the two. */
  protected execute(command: CodeCommand, registered?: (decision: CodeDecision) => void): CodeDecision {
    // A driver the host dropped (a crash, an eviction) writes nothing more: a new one owns the log.
    if (this.disposed) throw new Error("This instance driver was disposed; get the instance again.");
    const now = this.now();
    const decision = decideCode(this.kernel, command, { now, nextId: () => this.ulid(now), stepLimit: this.def.stepLimit, stateBefore: (seq) => this.stateBefore(seq) });
    if (decision.records.length) {
      try {
        this.store.append(decision.records);
        this.recordsSinceSnapshot += decision.records.length;
        if (snapshotDue(this.recordsSinceSnapshot, this.kernel.state.seq, this.options.snapshotEvery)) {
          // A code-first state is plain JSON already: the store copies or serialises it.
          this.store.saveSnapshot(this.kernel.state);
          this.recordsSinceSnapshot = 0;
        }
        this.options.onAppend?.(decision.records, this.summary());
        this.hooks()?.appended();
      } catch (error) {
        // A host fault: the caller gets the error, and the driver reloads from its log (host-fault.ts).
        this.fault(error);
        this.forgetUnwritten();
        throw error;
      }
    }
    registered?.(decision);
    this.carryOut(decision);
    return decision;
  }

  protected stateBefore(seq: number): CodeState {
    const snapshot = this.store.snapshot(seq) as CodeState | undefined;
    const tail = this.store.read({ after: snapshot?.seq ?? 0, before: seq });
    return foldCode(tail, snapshot, { stateBefore: (cut) => this.stateBefore(cut) });
  }

  /**
   * After a write failed, the kernel (which changes in place) is ahead of the log: readers are shown the log's
   * state until the reload. If the log cannot be read either, the reload after the fault tries again.
   */
  private forgetUnwritten(): void {
    try {
      this.kernel = loadedKernel(this.stateBefore(Infinity));
    } catch {
      return;
    }
  }
}
