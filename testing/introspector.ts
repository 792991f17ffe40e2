import { UnexpectedStatusError } from "../core/errors";
import { fromStructured } from "../core/code/structured";
import type { ErrorInfo, LogRecord } from "../core/records";
import type { InstanceStatus, InstanceStatusName } from "../core/status";
import { emptyModifierSet, selects, type TestHookTable, type WorkflowWatch } from "../runtime/test-hooks";
import type { InstanceReader, TestHost } from "./hosts";
import { WorkflowInstanceModifier, type StepSelector } from "./modifier";
import { disposeAsyncWith, type AsyncDisposer } from "./async-disposer";

const FINISHED: ReadonlySet<InstanceStatusName> = new Set(["complete", "errored", "terminated"]);

/** A step's outcome in the log's current run, if it has one: its output as run() received it, or its error. */
async function stepOutcome(reader: InstanceReader, key: string): Promise<{ ok: true; value: unknown } | { ok: false; error: ErrorInfo } | undefined> {
  let outcome: { ok: true; value: unknown } | { ok: false; error: ErrorInfo } | undefined;
  let after: number | undefined;
  do {
    const page = await reader.historyPage(after === undefined ? {} : { after });
    for (const record of page.records as LogRecord[]) {
      // A restart starts the story of its steps over.
      if (record.type === "instance.restarted") outcome = undefined;
      if (record.type === "step.succeeded" && record.data.key === key) outcome = { ok: true, value: fromStructured(record.data) };
      if (record.type === "step.failed" && record.data.key === key) outcome = { ok: false, error: record.data.error };
    }
    after = page.next;
  } while (after !== undefined);
  return outcome;
}

const thrown = (error: ErrorInfo) => Object.assign(new Error(error.message), { name: error.name });

/**
 * One instance under test, as Cloudflare's WorkflowInstanceIntrospector: change what it does (`modify`), wait for
 * it (`waitForStatus`, `waitForStepResult`), read its ending (`getOutput`, `getError`), and `dispose` of the
 * changes (or `await using`) when the test ends. It may be made before the instance exists.
 */
// `await using` support: see async-disposer.ts.
export interface WorkflowInstanceIntrospector extends AsyncDisposer {}
export class WorkflowInstanceIntrospector {
  /** @internal */
  constructor(
    private readonly host: TestHost,
    private readonly table: TestHookTable,
    readonly workflow: string,
    readonly id: string,
  ) {}

  /**
   * Applies what `fn` asks of the modifier. Make the changes before the instance reaches what they change: the engine
   * consults them as it starts a step, arms a sleep, a retry or a wait, and delivers events as it moves.
   */
  async modify(fn: (m: WorkflowInstanceModifier) => Promise<void> | void): Promise<this> {
    const set = emptyModifierSet();
    await fn(new WorkflowInstanceModifier(set));
    this.table.entry(this.workflow, this.id).sources[0]!.push(set);
    return this;
  }

  /** Settles once the instance has `status`; throws UnexpectedStatusError if it finishes with another. */
  async waitForStatus(status: InstanceStatusName): Promise<void> {
    await this.until(async (reader) => {
      const now = await reader.status();
      if (now.status === status) return { done: true, value: undefined };
      if (FINISHED.has(now.status)) throw new UnexpectedStatusError(this.id, status, now.status);
      return { done: false };
    });
  }

  /**
   * The step's result once it has one, as run() (or the machine's onDone) received it; rejects with the step's error
   * if it failed for good. `{ name, index? }` finds a step the instance has started since the introspector was made;
   * `{ key }` any step of its log.
   */
  async waitForStepResult(step: StepSelector): Promise<unknown> {
    return this.until(async (reader) => {
      // The status first: a finished instance's log, read after it, holds every outcome it will ever have.
      const { status } = await reader.status();
      const key = "key" in step ? step.key : [...(this.table.instance(this.workflow, this.id)?.steps.values() ?? [])].find((seen) => selects(step, seen))?.key;
      const outcome = key === undefined ? undefined : await stepOutcome(reader, key);
      if (outcome?.ok) return { done: true, value: outcome.value };
      if (outcome) throw thrown(outcome.error);
      if (FINISHED.has(status)) throw new UnexpectedStatusError(this.id, `a result of step ${JSON.stringify(step)}`, status);
      return { done: false };
    });
  }

  /** The output of a complete instance. */
  async getOutput(): Promise<unknown> {
    return (await this.finished("complete")).output;
  }

  /** The error of an errored instance, `{ name, message }`. */
  async getError(): Promise<{ name: string; message: string }> {
    return (await this.finished("errored")).error!;
  }

  /** Drops this instance's modifiers: it runs on as it would have without the test. */
  async dispose(): Promise<void> {
    this.table.release(this.workflow, this.id);
  }

  private async finished(status: "complete" | "errored"): Promise<InstanceStatus> {
    const reader = await this.host.instance(this.workflow, this.id);
    const now = reader && (await reader.status());
    if (now?.status !== status) throw new UnexpectedStatusError(this.id, status, now?.status ?? "not created");
    return now;
  }

  /** Reads the instance each time it may have changed until `check` is done; listening starts before each read, so no change is missed. */
  private async until<T>(check: (reader: InstanceReader) => Promise<{ done: true; value: T } | { done: false }>): Promise<T> {
    for (;;) {
      const changed = this.host.changed(this.table, this.workflow, this.id);
      const reader = await this.host.instance(this.workflow, this.id);
      const result = reader ? await check(reader) : { done: false as const };
      if (result.done) return result.value;
      await changed;
    }
  }
}

/** Every instance of a workflow created after it was made, as Cloudflare's WorkflowIntrospector. */
export interface WorkflowIntrospector extends AsyncDisposer {}
export class WorkflowIntrospector {
  /** @internal */
  constructor(
    private readonly host: TestHost,
    private readonly table: TestHookTable,
    readonly workflow: string,
    private readonly watch: WorkflowWatch,
  ) {}

  /** Applies what `fn` asks to every instance created since the introspector was made, those to come included. */
  async modifyAll(fn: (m: WorkflowInstanceModifier) => Promise<void> | void): Promise<void> {
    const set = emptyModifierSet();
    await fn(new WorkflowInstanceModifier(set));
    this.watch.sets.push(set);
  }

  /** An introspector for each instance created since, in the order they were created. */
  async get(): Promise<WorkflowInstanceIntrospector[]> {
    return this.watch.ids.map((id) => new WorkflowInstanceIntrospector(this.host, this.table, this.workflow, id));
  }

  /** Stops watching, and drops the modifiers of every instance it watched. */
  async dispose(): Promise<void> {
    this.table.unwatch(this.workflow, this.watch);
  }
}

disposeAsyncWith(WorkflowInstanceIntrospector);
disposeAsyncWith(WorkflowIntrospector);
