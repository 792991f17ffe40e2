import { expect } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow } from "../../index";
import type { WireTask } from "../../runtime/python-workers";

/**
 * A memory host serving one Python workflow, "pipeline" (10 s leases), on a manual clock, for tests that drive the
 * worker protocol by hand: `claim()` must find an instance that wants a worker.
 */
export function pythonWorld(options: { stepLimit?: number } = {}) {
  const clock = createManualClock(1_000_000);
  const pipeline = defineWorkflow({ name: "pipeline", python: { leaseMs: 10_000 }, ...options });
  const host = createMemoryHost({ workflows: [pipeline], clock });
  const workers = host.python("pipeline");
  const claim = async (): Promise<WireTask> => {
    const task = await workers.claim("test", 0);
    expect(task, "an instance wants a worker").toBeDefined();
    return task!;
  };
  return { clock, host, workers, claim, client: host.workflow("pipeline") };
}
