import type { InstanceStatusName } from "../core/status";
import type { InstanceSummary } from "./client";

/** How many instances have each status: every status, 0 when none has it. */
export type StatusCounts = Record<InstanceStatusName, number>;

/**
 * What watch() tells of a workflow's instances. Each change carries the
 * instance's whole row (or its id, once deleted) and the workflow's counts
 * after it, so a client that applies changes in order to a list it read
 * after a `sync` ends where the host is, whichever it read first.
 *
 * - `sync`: the watch is live from here on, and what came before may have been
 *   missed (it has just begun, its connection to the host was replaced, or its
 *   reader fell behind): read list() again.
 * - `created`: a new instance; `updated`: an instance's status changed;
 *   `deleted`: an instance is gone (deleted, or its retention ran out).
 */
export type WorkflowChange =
  | { type: "sync"; counts: StatusCounts }
  | { type: "created" | "updated"; instance: InstanceSummary; counts: StatusCounts }
  | { type: "deleted"; id: string; counts: StatusCounts };

/** A live watch of a workflow's instances: changes in the order the host made them, until disposed. */
export interface WorkflowWatch extends Disposable, AsyncIterable<WorkflowChange> {
  /** The next change, waiting for one; done once disposed. Rejects if the host cannot be reached to go on watching. */
  next(): Promise<IteratorResult<WorkflowChange, void>>;
}
