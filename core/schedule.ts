import { cronProblem, normalizeCron } from "./cron";
import { InvalidScheduleError } from "./errors";
import { hashString } from "./hash";

/** One firing of a cron trigger, as Cloudflare's `event.schedule` shows it; `scheduledTime` in epoch milliseconds. */
export interface CronFiring {
  cron: string;
  scheduledTime: number;
}

/** A workflow's `schedules` option, checked at definition time: one cron string or a list of them. */
export function parseSchedules(workflow: string, schedules: unknown): readonly string[] {
  if (schedules === undefined) return [];
  const list = typeof schedules === "string" ? [schedules] : schedules;
  if (!Array.isArray(list)) throw new InvalidScheduleError(workflow, `schedules must be a cron string or a list of them, like ["*/5 * * * *"].`);
  for (const expression of list) {
    const problem = cronProblem(expression);
    if (problem) throw new InvalidScheduleError(workflow, problem);
  }
  return Object.freeze(list.map((expression: string) => expression.trim()));
}

export function firesOn(schedules: readonly string[], cron: string): boolean {
  const wanted = normalizeCron(cron);
  return schedules.some((expression) => normalizeCron(expression) === wanted);
}

/**
 * The id of the instance a firing creates: the same for the same workflow,
 * cron and time, so a trigger delivered twice creates one instance. The
 * hash first, so listing by id groups a schedule's firings in time order.
 */
export function scheduledInstanceId(workflow: string, firing: CronFiring): string {
  return `cron-${hashString(`${workflow}\n${normalizeCron(firing.cron)}`)}-${firing.scheduledTime}`;
}
