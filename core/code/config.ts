import { toMilliseconds } from "../durations";
import { show, text } from "../errors";
import type { Json } from "../json";
import { DEFAULT_POLICY, type Backoff, type StepPolicy } from "../retry";
import type { WorkflowDelayDuration, WorkflowDelayFunction, WorkflowStepConfig, WorkflowStepContext } from "./types";

/**
 * Cloudflare's errors, with Cloudflare's names and messages: code written for
 * Cloudflare Workflows catches and logs them, so they must read the same.
 */
export class WorkflowFatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkflowFatalError";
  }
}

export class NonRetryableDelayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NonRetryableDelayError";
  }
}

const CONFIG_HELP = "See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/";

/** Cloudflare's defaults (DEFAULT_POLICY, shared with machines) as a step's `ctx.config` shows them. */
export const DEFAULT_STEP_CONFIG = {
  retries: { limit: DEFAULT_POLICY.limit, delay: DEFAULT_POLICY.delayMs, backoff: DEFAULT_POLICY.backoff },
  timeout: "10 minutes" as const,
};

/** Cloudflare's documented limits: step names, steps per instance, sleep length. */
export const MAX_STEP_NAME = 256;
export const DEFAULT_STEP_LIMIT = 10_000;
export const MAX_STEP_LIMIT = 25_000;
export const MAX_SLEEP_MS = 365 * 86_400_000;
export const DELAY_FUNCTION_MS = 5_000;

export interface ResolvedStepConfig {
  /** Attempts, backoff and timeout, as machine steps have them; `delayMs` is unused when `delayFunction` is set. */
  policy: StepPolicy;
  /** The user's function of `{ ctx, error }` that picks each retry's delay. */
  delayFunction?: WorkflowDelayFunction;
  /** What the callback sees as `ctx.config`: defaults filled in, a delay function left out. */
  publicConfig: WorkflowStepContext["config"];
}

export function assertStepName(name: unknown): asserts name is string {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== "string" || name.length > MAX_STEP_NAME || /[\x00-\x1f]/.test(name)) {
    throw new WorkflowFatalError(`Step name "${text(name)}" exceeds max length (${MAX_STEP_NAME} chars) or invalid characters found`);
  }
}

export function invalid(name: string): WorkflowFatalError {
  return new WorkflowFatalError(`Step config for "${name}" is in a invalid format. ${CONFIG_HELP}`);
}

function duration(name: string, value: unknown, allowZero: boolean): number {
  let ms: number;
  try {
    ms = toMilliseconds(value);
  } catch {
    throw invalid(name);
  }
  if (!allowZero && ms === 0) throw invalid(name);
  return ms;
}

function onlyKeys(value: unknown, keys: readonly string[]): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).every((key) => keys.includes(key));
}

/** Checks a step config as strictly as Cloudflare does and fills in its defaults. */
export function resolveStepConfig(name: string, config: WorkflowStepConfig | undefined): ResolvedStepConfig {
  if (config !== undefined && !onlyKeys(config, ["retries", "timeout", "sensitive"])) throw invalid(name);
  const retries = config?.retries;
  if (retries !== undefined && (!onlyKeys(retries, ["limit", "delay", "backoff"]) || !("delay" in retries))) throw invalid(name);
  if (retries !== undefined && (!Number.isInteger(retries.limit) || retries.limit < 0)) throw invalid(name);
  if (retries?.backoff !== undefined && !["constant", "linear", "exponential"].includes(retries.backoff)) throw invalid(name);
  if (config?.sensitive !== undefined && config.sensitive !== "output") throw invalid(name);
  const delayFunction = typeof retries?.delay === "function";
  const delayMs = retries && !delayFunction ? duration(name, retries.delay, true) : DEFAULT_POLICY.delayMs;
  // An explicit `backoff: undefined` means constant, as in Cloudflare's engine.
  const backoff: Backoff = retries ? ("backoff" in retries ? (retries.backoff ?? "constant") : DEFAULT_STEP_CONFIG.retries.backoff) : DEFAULT_STEP_CONFIG.retries.backoff;
  const timeout = config?.timeout ?? DEFAULT_STEP_CONFIG.timeout;
  const timeoutMs = duration(name, timeout, false);
  const limit = retries?.limit ?? DEFAULT_STEP_CONFIG.retries.limit;
  const publicRetries: NonNullable<WorkflowStepContext["config"]["retries"]> = { limit, backoff };
  if (!delayFunction) publicRetries.delay = (retries?.delay as WorkflowDelayDuration | undefined) ?? DEFAULT_STEP_CONFIG.retries.delay;
  const publicConfig: WorkflowStepContext["config"] = { retries: publicRetries, timeout };
  if (config?.sensitive) publicConfig.sensitive = config.sensitive;
  const policy: StepPolicy = { limit, delayMs, backoff, timeoutMs };
  return { policy, ...(delayFunction ? { delayFunction: retries!.delay as WorkflowDelayFunction } : {}), publicConfig };
}

/** The config of a step that gave none, as its callback sees it. */
export const DEFAULT_PUBLIC_CONFIG: Json = resolveStepConfig("", undefined).publicConfig as Json;

/**
 * The config a step's first `step.started` record keeps, as Cloudflare's
 * `step_started` event shows it (a delay function as "[dynamic]"); nothing
 * for the default, so that the log of a step that gave none stays as small.
 */
export function loggedConfig(config: ResolvedStepConfig): { config?: Json } {
  const { retries, ...rest } = config.publicConfig;
  const shown = { retries: config.delayFunction ? { ...retries, delay: "[dynamic]" } : retries, ...rest } as Json;
  return JSON.stringify(shown) === JSON.stringify(DEFAULT_PUBLIC_CONFIG) ? {} : { config: shown };
}

/** Reads what a delay function returned; anything but a duration fails the step for good, as Cloudflare's engine does. */
export function delayFromFunction(stepName: string, result: unknown): number {
  try {
    return toMilliseconds(result);
  } catch {
    throw new NonRetryableDelayError(
      `The delay function for step "${stepName}" returned an invalid delay value (expected a number of ms or a duration string like "30 seconds"), got ${show(result)}`,
    );
  }
}

/** A resolved config as the kernel keeps it for a step call: data only; the functions stay with the client. */
export function callOf(config: ResolvedStepConfig): { policy: StepPolicy; delayFunction: boolean; logged: { config?: Json }; sensitive: boolean } {
  return { policy: config.policy, delayFunction: config.delayFunction !== undefined, logged: loggedConfig(config), sensitive: config.publicConfig.sensitive === "output" };
}
