import { invalidRestartFrom, kindOf, stepNotFound } from "./refusals";
import type { RecordBody } from "./records";

/**
 * The record of a restart, for every form: from the top, or from step `from`, cutting the log at `cut`, the seq
 * where that step first started (undefined when it never did). A `from` that is not a step's key is refused, and
 * nothing is written.
 */
export function restartRecord(instanceId: string, from: unknown, cut: (key: string) => number | undefined): RecordBody<"instance.restarted"> {
  if (from === undefined) return { type: "instance.restarted", data: {} };
  if (typeof from !== "string") throw invalidRestartFrom(`got ${kindOf(from)}`);
  const seq = cut(from);
  if (seq === undefined) throw stepNotFound(from, instanceId);
  return { type: "instance.restarted", data: { from, cut: seq } };
}
