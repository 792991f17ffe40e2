import { assertStepName, callOf, resolveStepConfig, WorkflowFatalError, type ResolvedStepConfig } from "../core/code/config";
import type { CodeCommand, CodeDecision } from "../core/code/decide";
import { toRunError } from "../core/code/run-errors";
import type { WorkflowStep, WorkflowStepConfig, WorkflowStepContext, WorkflowStepEvent, WorkflowStepRollbackOptions } from "../core/code/types";
import { toMilliseconds } from "../core/durations";
import { DurableMachinesError } from "../core/errors";
import { assertEventType } from "../core/ids";
import { errorInfo } from "../core/planner";

export type Callback = (ctx: WorkflowStepContext) => Promise<unknown>;
export type RollbackFunction = (context: { ctx: WorkflowStepContext; error: Error; output: unknown; stepName: string }) => Promise<void>;

/** What a step call leaves with the client: the functions, which the kernel does not keep. */
export interface Registered {
  callback: Callback;
  config: ResolvedStepConfig;
  undo?: { rollback: RollbackFunction; forward: WorkflowStepContext["config"] };
}

/** What the `step` object needs of its driver, for one pass of run(). */
export interface StepPort {
  /** Whether a call of this pass gets an answer; throws the kernel's refusal (a call during a saga). */
  open(): boolean;
  /** Sends the command; `registered` is called with its decision before its effects are carried out. Resolves with the log's answer. */
  call<T>(command: CodeCommand, registered?: (decision: CodeDecision) => void): Promise<T>;
  register(key: string, registered: Registered): void;
}

export const never = () => new Promise<never>(() => undefined);

/** A refusal as run() receives it: a WorkflowFatalError with Cloudflare's message, its name kept (docs/cloudflare-compat.md, 17). */
const refused = (error: unknown): Promise<never> =>
  Promise.reject(toRunError(errorInfo(error instanceof DurableMachinesError ? new WorkflowFatalError(error.message) : error)));

/** Checks rollback options as strictly as Cloudflare does; its messages. */
function resolveRollback(name: string, options: unknown): { rollback: RollbackFunction; config: ResolvedStepConfig } {
  if (typeof options !== "object" || options === null) throw new WorkflowFatalError(`Rollback options for "${name}" must be an object`);
  const { rollback, rollbackConfig } = options as { rollback?: unknown; rollbackConfig?: unknown };
  if (typeof rollback !== "function") throw new WorkflowFatalError(`Rollback for "${name}" must be a function`);
  try {
    return { rollback: rollback as RollbackFunction, config: resolveStepConfig(name, rollbackConfig as WorkflowStepConfig | undefined) };
  } catch {
    throw new WorkflowFatalError(`Rollback config for "${name}" is in a invalid format. See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/`);
  }
}

/**
 * The `step` object one pass of run() receives, with Cloudflare's signatures: each call is checked here for what only
 * TypeScript has (the callback, functions in a config, the duration formats), then sent to the kernel as a command.
 */
export function stepApi(pass: number, port: StepPort): WorkflowStep {
  const guarded = <T>(build: () => Promise<T>): Promise<T> => {
    try {
      return port.open() ? build() : never();
    } catch (error) {
      return refused(error);
    }
  };
  return {
    do: (<T>(
      name: string,
      configOrCallback: WorkflowStepConfig | Callback,
      callbackOrRollback?: Callback | WorkflowStepRollbackOptions<T>,
      maybeRollback?: WorkflowStepRollbackOptions<T>,
    ): Promise<T> =>
      guarded(() => {
        assertStepName(name);
        const withoutConfig = typeof configOrCallback === "function";
        const callback = withoutConfig ? configOrCallback : (callbackOrRollback as Callback);
        const rollback = withoutConfig ? (callbackOrRollback as WorkflowStepRollbackOptions<T> | undefined) : maybeRollback;
        const config = resolveStepConfig(name, withoutConfig ? undefined : configOrCallback);
        if (typeof callback !== "function") throw new WorkflowFatalError(`Step "${name}" requires a callback function`);
        const undo = rollback === undefined ? undefined : resolveRollback(name, rollback);
        const command: CodeCommand = { type: "step.call", pass, name, call: callOf(config), ...(undo ? { handler: callOf(undo.config) } : {}) };
        return port.call<T>(command, ({ key }) => {
          if (key !== undefined) port.register(key, { callback, config, ...(undo ? { undo: { rollback: undo.rollback, forward: config.publicConfig } } : {}) });
        });
      })) as WorkflowStep["do"],
    sleep: (name, duration) =>
      guarded(() => {
        assertStepName(name);
        return port.call({ type: "sleep", pass, name, ms: toMilliseconds(duration) });
      }),
    sleepUntil: (name, timestamp) => guarded(() => port.call({ type: "sleep.until", pass, name, at: timestamp instanceof Date ? timestamp.getTime() : timestamp })),
    waitForEvent: <T>(name: string, options: { type: string; timeout?: string | number }) =>
      guarded(() => {
        assertStepName(name);
        assertEventType(options?.type);
        const timeout = options.timeout === undefined ? {} : { timeoutMs: toMilliseconds(options.timeout) };
        return port.call<WorkflowStepEvent<T>>({ type: "wait", pass, name, eventType: options.type, ...timeout });
      }),
  } as WorkflowStep;
}
