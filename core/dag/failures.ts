import type { Json } from "../json";

/**
 * Errors a DAG instance fails with (thrown inside the machine's transition,
 * which fails the instance as a step that fails for good does, rollbacks
 * included). Their name and message are what the instance's error shows.
 */
export class MapInputError extends Error {
  constructor(task: string, over: string, found: Json | undefined) {
    super(`Task "${task}" maps over the output of "${over}", which is not a list (got ${JSON.stringify(found) ?? "undefined"}).`);
    this.name = "MapInputError";
  }
}

/** Named as Cloudflare names a waitForEvent that times out, so code that catches one by name catches both. */
export class EventTimeoutError extends Error {
  constructor(task: string, type: string, ms: number) {
    super(`Task "${task}" timed out after ${ms}ms waiting for a "${type}" event`);
    this.name = "WorkflowTimeoutError";
  }
}
