import { DurableMachinesError } from "../core/errors";
import type { LogRecord } from "../core/records";
import type { InstanceStatus } from "../core/status";
import { TEST_HOOKS, type TestHookTable } from "../runtime/test-hooks";

/** What an introspector reads of an instance. */
export interface InstanceReader {
  status(): Promise<InstanceStatus>;
  historyPage(options?: { after?: number }): Promise<{ records: LogRecord[]; next?: number }>;
}

/** Where the instances under test run, as the introspectors need it: the hooks table, the instances, and when to look again. */
export interface TestHost {
  /** Throws the host's UnknownWorkflowError for a name it does not serve. */
  knows(workflow: string): void;
  /** The table the host's drivers consult. `id`: an instance of the workflow, to reach the table through its object. */
  hooks(workflow: string, id?: string): Promise<TestHookTable>;
  /** The instance, or undefined while it does not exist. */
  instance(workflow: string, id: string): Promise<InstanceReader | undefined>;
  /** Settles when the instance may have changed: at its next append, or after a short while where appends cannot be heard. */
  changed(table: TestHookTable, workflow: string, id: string): Promise<void>;
}

/** A client shaped like both hosts': `workflow(name).get(id)`. Method syntax, so a typed client's narrower names still fit. */
interface ClientLike {
  workflow(name: string): { get(id: string): Promise<InstanceReader> };
}

async function found(get: () => Promise<InstanceReader>): Promise<InstanceReader | undefined> {
  try {
    return await get();
  } catch (error) {
    if (error instanceof DurableMachinesError && error.code === "instance.not_found") return undefined;
    if ((error as { code?: unknown })?.code === "instance.not_found") return undefined;
    throw error;
  }
}

/** A memory host, as createMemoryHost returns it. */
export interface MemoryHostLike extends ClientLike {
  readonly [TEST_HOOKS]: TestHookTable;
}

export function isMemoryHost(target: unknown): target is MemoryHostLike {
  return typeof target === "object" && target !== null && TEST_HOOKS in target;
}

export function memoryTestHost(host: MemoryHostLike): TestHost {
  return {
    knows: (workflow) => void host.workflow(workflow),
    hooks: async () => host[TEST_HOOKS],
    instance: (workflow, id) => found(() => host.workflow(workflow).get(id)),
    // In process, the driver's append is heard at once.
    changed: (table, workflow, id) => table.entry(workflow, id).next(),
  };
}

/**
 * The vitest plugin's `runInDurableObject`, as `import { runInDurableObject } from "cloudflare:test"` gives it. Typed
 * as any function: relating the plugin's generic overloads to a signature sends the checker through Rpc's types until
 * it gives up ("excessively deep"); the host calls it as the plugin documents.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type RunInDurableObject = Function;

export interface DurableObjectHostOptions {
  /** What `createWorkflows` returned in your Worker. */
  // Typed loosely: comparing a typed client's registry with a shape here is more than the checker will do.
  workflows: { readonly client: unknown };
  /** The test's env (`import { env } from "cloudflare:workers"`), with the Durable Object bindings. */
  env: unknown;
  /** `import { runInDurableObject } from "cloudflare:test"`: how the test reaches the objects' hooks. */
  runInDurableObject: RunInDurableObject;
}

/** How often a wait in workerd reads the instance again: a test there cannot hear the object's appends. */
const POLL_MS = 10;

/** The object an instance-less call reaches the table through: any object of the class shares it. */
const HOOKS_OBJECT = "durable-machines-test-hooks";

/**
 * The Durable Object host inside workerd under `@cloudflare/vitest-plugin`. The hooks table lives in the isolate with
 * the instance objects; the test reaches it with `runInDurableObject`, the plugin's test-only way into an object.
 */
export function durableObjectTestHost(options: DurableObjectHostOptions): TestHost {
  const client = () => (options.workflows.client as (env: unknown) => ClientLike & { stub(workflow: string, id: string): unknown })(options.env);
  return {
    knows: (workflow) => void client().workflow(workflow),
    hooks: async (workflow, id) => {
      const run = options.runInDurableObject as (stub: unknown, callback: (object: { [TEST_HOOKS]: TestHookTable }) => TestHookTable) => Promise<TestHookTable>;
      return run(client().stub(workflow, id ?? HOOKS_OBJECT), (object) => object[TEST_HOOKS]);
    },
    instance: (workflow, id) => found(() => client().workflow(workflow).get(id)),
    changed: () => new Promise((resolve) => setTimeout(resolve, POLL_MS)),
  };
}
