/**
 * The hooks a test sets on instances (durable-machines/testing): one table per
 * host that the drivers consult as they run steps, arm sleeps, retries and
 * event waits. A host with no test attached has an empty table, and a driver
 * that finds no entry for its instance runs as it always does.
 *
 * Reached from a test by this symbol: a memory host carries its table under it,
 * and so does every instance object of the Durable Object host (the table is
 * shared by the objects of one class in the isolate). A symbol-keyed member is
 * never callable over JS RPC and no route forwards to it: only code running in
 * the same isolate and holding the object itself (the vitest plugin's
 * `runInDurableObject`) can reach it.
 */
export const TEST_HOOKS = Symbol.for("durable-machines.test-hooks");

/** A step as a test names it: Cloudflare's `{ name, index? }` (index from 1, the first by default), or its key in the log. */
export type StepSelector = { name: string; index?: number } | { key: string };

/** A step, sleep, timer or event wait as a driver knows it. `aliases`: other names it answers to (a machine timer's state). */
export interface StepIdentity {
  key: string;
  name: string;
  count: number;
  aliases?: readonly string[];
}

/** What a mocked attempt does instead of running the body; `times` bounds how many attempts it takes (all when unset). */
export type StepMock = { type: "result"; value: unknown } | { type: "error"; error: unknown; times?: number } | { type: "timeout"; times?: number };

export interface MockEvent {
  type: string;
  payload: unknown;
}

/** What one `modify()` asked for: plain data, read by the drivers each time they decide. */
export interface ModifierSet {
  sleeps: { all: boolean; steps: StepSelector[] };
  retryDelays: { all: boolean; steps: StepSelector[] };
  mocks: { step: StepSelector; mock: StepMock }[];
  eventTimeouts: StepSelector[];
  events: MockEvent[];
}

export function emptyModifierSet(): ModifierSet {
  return { sleeps: { all: false, steps: [] }, retryDelays: { all: false, steps: [] }, mocks: [], eventTimeouts: [], events: [] };
}

export function selects(selector: StepSelector, step: StepIdentity): boolean {
  if ("key" in selector) return selector.key === step.key;
  const index = selector.index ?? 1;
  return index === step.count && (selector.name === step.name || (step.aliases?.includes(selector.name) ?? false));
}

/** What a driver asks about its own instance. */
export interface InstanceHooks {
  /** What attempt `attempt` of the step does instead of its body, if anything. */
  mockFor(step: StepIdentity, attempt: number): StepMock | undefined;
  /** `explicit`: only a sleep the test named (a machine timer that guards an event wait is no sleep of "all sleeps"). */
  skipsSleep(step: StepIdentity, explicit?: boolean): boolean;
  skipsRetryDelay(step: StepIdentity): boolean;
  timesOutWait(step: StepIdentity): boolean;
  /** The mock events not yet delivered. */
  pendingEvents(): readonly MockEvent[];
  delivered(event: MockEvent): void;
  /** The driver met this step: a test can then find it by name. */
  sawStep(step: StepIdentity): void;
  /** Records were appended. */
  appended(): void;
}

/** The table as the drivers see it. */
export interface TestHooks {
  instance(workflow: string, id: string): InstanceHooks | undefined;
  /** An instance is being created: workflow-wide modifiers claim it. */
  created(workflow: string, id: string): void;
}

/** Modifiers for every instance of a workflow created from now on (Cloudflare's introspectWorkflow). */
export interface WorkflowWatch {
  readonly sets: ModifierSet[];
  readonly ids: string[];
}

class InstanceEntry implements InstanceHooks {
  /** The instance's own sets, and the sets of each workflow watch that claimed it, by reference. */
  readonly sources: ModifierSet[][] = [[]];
  readonly steps = new Map<string, StepIdentity>();
  private readonly done = new Set<MockEvent>();
  private readonly listeners = new Set<() => void>();

  private sets(): ModifierSet[] {
    return this.sources.flat();
  }

  mockFor(step: StepIdentity, attempt: number): StepMock | undefined {
    // Mocks take attempts in the order they were given: three errors, then a result, say.
    let left = attempt;
    for (const { step: selector, mock } of this.sets().flatMap((set) => set.mocks)) {
      if (!selects(selector, step)) continue;
      const times = mock.type === "result" ? undefined : mock.times;
      if (times === undefined || left <= times) return mock;
      left -= times;
    }
    return undefined;
  }

  skipsSleep(step: StepIdentity, explicit = false): boolean {
    return this.sets().some(({ sleeps }) => (sleeps.all && !explicit) || sleeps.steps.some((s) => selects(s, step)));
  }

  skipsRetryDelay(step: StepIdentity): boolean {
    return this.sets().some(({ retryDelays }) => retryDelays.all || retryDelays.steps.some((s) => selects(s, step)));
  }

  timesOutWait(step: StepIdentity): boolean {
    return this.sets().some((set) => set.eventTimeouts.some((s) => selects(s, step)));
  }

  pendingEvents(): readonly MockEvent[] {
    return this.sets()
      .flatMap((set) => set.events)
      .filter((event) => !this.done.has(event));
  }

  delivered(event: MockEvent): void {
    this.done.add(event);
  }

  sawStep(step: StepIdentity): void {
    this.steps.set(step.key, step);
  }

  appended(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Settles at the instance's next append. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      const listener = () => {
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
    });
  }
}

/** One host's hooks: entries per instance and the watches of whole workflows. */
export class TestHookTable implements TestHooks {
  private readonly entries = new Map<string, InstanceEntry>();
  private readonly watches = new Map<string, Set<WorkflowWatch>>();

  instance(workflow: string, id: string): InstanceEntry | undefined {
    return this.entries.size ? this.entries.get(slot(workflow, id)) : undefined;
  }

  created(workflow: string, id: string): void {
    for (const watch of this.watches.get(workflow) ?? []) {
      watch.ids.push(id);
      this.entry(workflow, id).sources.push(watch.sets);
    }
  }

  /** The instance's entry, made when missing: a test attaches before or after the instance exists. */
  entry(workflow: string, id: string): InstanceEntry {
    const key = slot(workflow, id);
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = new InstanceEntry()));
    return entry;
  }

  watch(workflow: string): WorkflowWatch {
    const watch: WorkflowWatch = { sets: [], ids: [] };
    this.watches.set(workflow, (this.watches.get(workflow) ?? new Set()).add(watch));
    return watch;
  }

  /** Drops the instance's own modifiers and its entry: the instance runs on as it would have without a test. */
  release(workflow: string, id: string): void {
    const entry = this.entries.get(slot(workflow, id));
    if (!entry) return;
    this.entries.delete(slot(workflow, id));
    // Waits in progress hear of it and read the instance once more.
    entry.appended();
  }

  unwatch(workflow: string, watch: WorkflowWatch): void {
    this.watches.get(workflow)?.delete(watch);
    for (const id of watch.ids) this.release(workflow, id);
  }
}

export type { InstanceEntry };

const slot = (workflow: string, id: string) => `${workflow}\u0000${id}`;
