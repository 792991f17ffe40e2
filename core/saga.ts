import type { ErrorInfo } from "./records";

/**
 * The saga's rules, for every form: when a run fails (or a terminate asks for it), the steps that started and have a
 * way to be undone are undone newest first, by their first start (Cloudflare's order), one at a time, each a step of
 * its own; one that fails for good stops the chain, and the instance keeps its own ending.
 */

/** What a saga a terminate asked for records as its error, and tells its handlers. */
export const TERMINATED_FOR_ROLLBACK: ErrorInfo = { name: "Terminated", message: "Instance terminated during rollback" };

/** The keys to undo, newest first start first; `firstStart` is undefined for a step that never started. */
export function undoOrder(keys: Iterable<string>, firstStart: (key: string) => number | undefined): string[] {
  const started = [...keys].flatMap((key) => {
    const at = firstStart(key);
    return at === undefined ? [] : [{ key, at }];
  });
  return started.sort((a, b) => b.at - a.at).map(({ key }) => key);
}
