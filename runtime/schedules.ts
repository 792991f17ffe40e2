import { InstanceExistsError, InvalidOperationError, show } from "../core/errors";
import type { Retention } from "../core/retention";
import { firesOn, scheduledInstanceId, type CronFiring } from "../core/schedule";
import type { WorkflowCatalog } from "./catalog";
import type { CreateRequest } from "./client";

/** An instance a firing asked for: `created` is false when an earlier delivery of the same firing had created it. */
export interface ScheduledInstance {
  workflow: string;
  id: string;
  created: boolean;
}

function checkFiring(firing: unknown): CronFiring {
  const { cron, scheduledTime } = (firing ?? {}) as Partial<CronFiring>;
  if (typeof cron !== "string" || cron.trim() === "" || !Number.isSafeInteger(scheduledTime) || scheduledTime! < 0) {
    throw new InvalidOperationError("schedule.invalid_firing", `A firing is { cron, scheduledTime } with scheduledTime in epoch milliseconds, as a ScheduledController has them; got ${show(firing)}.`);
  }
  return { cron, scheduledTime: scheduledTime! };
}

/**
 * One firing of a cron trigger: an instance of every workflow whose newest
 * definition lists the cron, under an id made from the workflow, the cron and
 * the time, so a trigger delivered twice creates nothing twice. A machine
 * gets `{ schedule }` as its input; a code-first run gets `event.schedule`.
 * Every workflow is tried; if any failed, the error says which, so the
 * trigger can be retried safely.
 */
export async function fireSchedule(
  catalog: WorkflowCatalog,
  firing: unknown,
  retention: Retention,
  create: (workflow: string, request: CreateRequest) => Promise<unknown>,
): Promise<ScheduledInstance[]> {
  const schedule = checkFiring(firing);
  const due = catalog
    .names()
    .map((name) => catalog.latest(name))
    .filter((def) => firesOn(def.schedules, schedule.cron));
  const outcomes = await Promise.allSettled(
    due.map(async ({ name, kind }): Promise<ScheduledInstance> => {
      const id = scheduledInstanceId(name, schedule);
      try {
        await create(name, { id, params: kind === "machine" ? { schedule } : undefined, retention, schedule });
        return { workflow: name, id, created: true };
      } catch (error) {
        if (error instanceof InstanceExistsError) return { workflow: name, id, created: false };
        throw error;
      }
    }),
  );
  const failures = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ workflow: due[i]!.name, reason: outcome.reason as unknown }] : []));
  if (failures.length) {
    throw new AggregateError(
      failures.map((failure) => failure.reason),
      `The cron "${schedule.cron}" could not create instances of ${failures.map((failure) => `"${failure.workflow}"`).join(", ")}; firing it again creates only what is missing.`,
    );
  }
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<ScheduledInstance>).value);
}
