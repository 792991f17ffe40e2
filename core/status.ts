import type { Json } from "./json";
import type { ErrorInfo } from "./records";
import type { InstanceState } from "./state";

/** Cloudflare Workflows' instance statuses. */
export type InstanceStatusName =
  | "queued"
  | "running"
  | "paused"
  | "errored"
  | "terminated"
  | "complete"
  | "waiting"
  | "waitingForPause"
  | "rollingBack"
  | "unknown";

export const INSTANCE_STATUSES: readonly InstanceStatusName[] = ["queued", "running", "paused", "errored", "terminated", "complete", "waiting", "waitingForPause", "rollingBack", "unknown"];

/** Shaped as Cloudflare's `InstanceStatus`, plus where the machine stands. A typed client says what `output` is; without one it is unknown (the engine keeps it as JSON). */
export interface InstanceStatus<TOutput = unknown> {
  status: InstanceStatusName;
  output?: TOutput;
  error?: { name: string; message: string };
  /** The machine's state value: a string, or an object for nested and parallel states. */
  value: Json;
}

/** An error as users are shown it: its name and message, without the engine's own flags. */
export function publicError(error: ErrorInfo): { name: string; message: string } {
  return { name: error.name, message: error.message };
}

export function statusName(state: InstanceState): InstanceStatusName {
  const { ended, paused, steps, rollback } = state.book;
  if (ended) return ended.status;
  if (rollback) return "rollingBack";
  const running = Object.values(steps).some((entry) => entry.phase === "running" || entry.phase === "ready");
  if (paused) return running ? "waitingForPause" : "paused";
  return running ? "running" : "waiting";
}

export function statusOf(state: InstanceState): InstanceStatus<Json> {
  const { ended } = state.book;
  const status: InstanceStatus<Json> = { status: statusName(state), value: state.machine.value as Json };
  if (ended?.status === "complete" && ended.output !== undefined) status.output = ended.output;
  if (ended?.status === "errored") status.error = publicError(ended.error);
  return status;
}

/** When the host must wake the instance next: the earliest timer or retry, if it is not paused or ended. */
export function nextWake(state: InstanceState): number | undefined {
  const { ended, paused, timers, steps } = state.book;
  if (ended || paused) return undefined;
  let wake: number | undefined;
  for (const timer of Object.values(timers)) if (wake === undefined || timer.dueAt < wake) wake = timer.dueAt;
  for (const entry of Object.values(steps)) {
    if (entry.phase === "backoff" && entry.retryAt !== undefined && (wake === undefined || entry.retryAt < wake)) wake = entry.retryAt;
  }
  return wake;
}
