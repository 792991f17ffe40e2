/**
 * durable-machines/testing: test your own workflows the way Cloudflare's `introspectWorkflow` and
 * `introspectWorkflowInstance` (from `cloudflare:test`) let you, on the memory host in plain vitest and on the
 * Durable Object host inside workerd under `@cloudflare/vitest-plugin`. Machines, code-first classes and DAGs alike;
 * not Python workflows, whose bodies run in the worker process.
 */
import { durableObjectTestHost, isMemoryHost, memoryTestHost, type DurableObjectHostOptions, type MemoryHostLike, type TestHost } from "./testing/hosts";
import { WorkflowInstanceIntrospector, WorkflowIntrospector } from "./testing/introspector";

export { WorkflowInstanceIntrospector, WorkflowIntrospector } from "./testing/introspector";
export { WorkflowInstanceModifier, type StepSelector } from "./testing/modifier";
export type { DurableObjectHostOptions, RunInDurableObject, TestHost } from "./testing/hosts";
export { InvalidTestModifierError, UnexpectedStatusError } from "./core/errors";

/** A memory host (`createMemoryHost`), or the Durable Object host as `durableObjectHost(…)` gives it. */
export type TestTarget = MemoryHostLike | TestHost;

/**
 * The Durable Object host inside workerd, for a test under `@cloudflare/vitest-plugin`: your Worker's `workflows`
 * (what createWorkflows returned), the test's `env`, and the plugin's `runInDurableObject`, through which the test
 * reaches the instance objects in the isolate it shares with them.
 */
export function durableObjectHost(options: DurableObjectHostOptions): TestHost {
  return durableObjectTestHost(options);
}

const hostOf = (target: TestTarget): TestHost => (isMemoryHost(target) ? memoryTestHost(target) : target);

/** An introspector for one instance, by id, made before or after the instance is created. */
export async function introspectWorkflowInstance(target: TestTarget, workflow: string, id: string): Promise<WorkflowInstanceIntrospector> {
  const host = hostOf(target);
  host.knows(workflow);
  const table = await host.hooks(workflow, id);
  table.entry(workflow, id);
  return new WorkflowInstanceIntrospector(host, table, workflow, id);
}

/** An introspector for every instance of the workflow created from now on, whatever their ids. */
export async function introspectWorkflow(target: TestTarget, workflow: string): Promise<WorkflowIntrospector> {
  const host = hostOf(target);
  host.knows(workflow);
  const table = await host.hooks(workflow);
  return new WorkflowIntrospector(host, table, workflow, table.watch(workflow));
}
