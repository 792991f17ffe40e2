import type { LogRecord } from "../../core/records";

/** What the run records of each kill, and what the logs say afterwards about what it interrupted. */

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export interface KillFigure {
  n: number;
  /** Epoch ms of the kill. */
  at: number;
  jobsStarted: number;
  inFlight: { creates: number; events: number };
  workerd: number[];
  /** Kill to the new server's first answer. */
  restartMs: number;
  /** From the new server's first answer until the 20 instances created last before the kill had answered their status (each object loading its log); none when no create had been answered yet. */
  firstAnswersMs: number | undefined;
  /** Epoch ms when the new server answered. */
  readyEpoch: number;
  /** Filled in from the logs afterwards: step attempts started and not finished at the moment of the kill. */
  stepsRunning?: number;
  /** Filled in from the logs afterwards: per instance the kill caught mid-step, ms from `readyEpoch` to its next record, ascending: moved by itself, or after a request from the run reached it. */
  resumed?: { alone: number[]; woken: number[] };
}

/**
 * What a kill interrupted, from the logs: step attempts started after `since`
 * (the kill before) and unfinished at `kill`; and for each instance that had
 * one, how long after the new server answered (`ready`) its log moved again,
 * and whether it did so on its own (its alarm) or after the run sent it a
 * request (which wakes its object too).
 */
export function interrupted(logs: ReadonlyMap<string, LogRecord[]>, requests: readonly { reached: string[]; at: number }[], since: number, kill: number, ready: number) {
  let steps = 0;
  const alone: number[] = [];
  const woken: number[] = [];
  for (const [path, log] of logs) {
    const open = new Set<string>();
    for (const record of log) {
      if (record.at > kill) break;
      if (record.at <= since) continue;
      if (record.type === "step.started") open.add(`${record.data.key}@${record.data.attempt}`);
      if (record.type === "step.succeeded" || record.type === "step.failed" || record.type === "step.attempt_failed") open.delete(`${record.data.key}@${record.data.attempt}`);
    }
    if (!open.size) continue;
    steps += open.size;
    const next = log.find((record) => record.at > kill);
    if (!next) continue;
    const reaches = (reached: string) => reached === path || reached.startsWith(`${path}/`);
    const asked = requests.find((request) => request.at > kill && request.reached.some(reaches));
    (asked && asked.at <= next.at ? woken : alone).push(Math.max(0, next.at - ready));
  }
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  return { steps, alone: sorted(alone), woken: sorted(woken) };
}

/** How the instances a kill caught mid-step came back, for the summary. */
export function resumption({ alone, woken }: { alone: number[]; woken: number[] }): string {
  const spread = (values: number[]) => `median ${seconds(values[Math.floor(values.length / 2)]!)}, max ${seconds(values.at(-1)!)}`;
  const parts = [alone.length ? `${alone.length} moved on by themselves (${spread(alone)})` : "", woken.length ? `${woken.length} once a request reached them (${spread(woken)})` : ""];
  return parts.some(Boolean) ? `; of the instances caught mid-step, ${parts.filter(Boolean).join(", ")} after the restart` : "";
}

/** Which kill came soonest after `at`, for a violation's detail. */
export function beforeKill(killed: readonly KillFigure[], at: number): string {
  const next = killed.find((kill) => kill.at >= at);
  return next ? `${next.at - at} ms before kill ${next.n}` : "after the last kill";
}
