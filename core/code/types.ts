import type { Duration } from "../durations";
import type { CronFiring } from "../schedule";

/** The types of Cloudflare Workflows' code-first API (workers-types v5), so classes move over with their import changed. */
export type WorkflowDurationLabel = "second" | "minute" | "hour" | "day" | "week" | "month" | "year";
export type WorkflowSleepDuration = `${number} ${WorkflowDurationLabel}${"s" | ""}` | number;
export type WorkflowDelayDuration = WorkflowSleepDuration;
export type WorkflowTimeoutDuration = WorkflowSleepDuration;
export type WorkflowBackoff = "constant" | "linear" | "exponential";

export interface WorkflowStepContext {
  step: { name: string; count: number };
  attempt: number;
  config: {
    retries?: { limit: number; backoff?: WorkflowBackoff; delay?: WorkflowDelayDuration | number };
    timeout?: WorkflowTimeoutDuration | number;
    sensitive?: "output";
  };
}

export type WorkflowDelayFunction = (input: { ctx: WorkflowStepContext; error: Error }) => WorkflowDelayDuration | Promise<WorkflowDelayDuration>;

export interface WorkflowStepConfig {
  retries?: { limit: number; delay: WorkflowDelayDuration | number | WorkflowDelayFunction; backoff?: WorkflowBackoff };
  timeout?: WorkflowTimeoutDuration | number;
  sensitive?: "output";
}

export interface WorkflowRollbackContext<T = unknown> {
  ctx: WorkflowStepContext;
  error: Error;
  output: T | undefined;
  /** @deprecated Use `ctx.step.name` and `ctx.step.count`. */
  stepName: string;
}

export interface WorkflowStepRollbackOptions<T = unknown> {
  rollback: (context: WorkflowRollbackContext<T>) => Promise<void>;
  rollbackConfig?: Pick<WorkflowStepConfig, "retries" | "timeout">;
}

export interface WorkflowEvent<T> {
  payload: Readonly<T>;
  timestamp: Date;
  instanceId: string;
  workflowName: string;
  /** Set when a cron schedule created the instance; `scheduledTime` in epoch milliseconds. */
  schedule?: CronFiring;
}

export interface WorkflowStepEvent<T> {
  payload: Readonly<T>;
  timestamp: Date;
  type: string;
}

export interface WorkflowStep {
  do<T>(name: string, callback: (ctx: WorkflowStepContext) => Promise<T>, rollback?: WorkflowStepRollbackOptions<T>): Promise<T>;
  do<T>(name: string, config: WorkflowStepConfig, callback: (ctx: WorkflowStepContext) => Promise<T>, rollback?: WorkflowStepRollbackOptions<T>): Promise<T>;
  sleep(name: string, duration: WorkflowSleepDuration | Duration): Promise<void>;
  sleepUntil(name: string, timestamp: Date | number): Promise<void>;
  waitForEvent<T>(name: string, options: { type: string; timeout?: WorkflowTimeoutDuration | number }): Promise<WorkflowStepEvent<T>>;
}

/**
 * The base class of code-first workflows, as Cloudflare's: `ctx` and `env`
 * come from the host; `run` is replayed from the top after every restart of
 * its object and answered from the log up to where it stood.
 */
export abstract class WorkflowEntrypoint<Env = unknown, T = unknown> {
  protected ctx: unknown;
  protected env: Env;

  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }

  abstract run(event: Readonly<WorkflowEvent<T>>, step: WorkflowStep): Promise<unknown>;
}

/** Any class written against WorkflowEntrypoint, whatever its Env and payload types. */
export type WorkflowEntrypointClass = new (ctx: never, env: never) => { run(event: never, step: WorkflowStep): Promise<unknown> };
