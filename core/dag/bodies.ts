import type { StepArgs } from "../definition";
import type { Json } from "../json";
import type { ErrorInfo } from "../records";
import { toPolicy } from "../retry";
import { DEFAULT_STEP_CONFIG } from "../code/config";
import type { ItemInput, TaskInput } from "./context";
import type { CallTask, MapTask, TaskConfig, TaskContext, TaskStepConfig } from "./types";

/** What a compensation step receives from the saga (core/compensation.ts): the step's input, its output if it had one, the run's error. */
interface UndoInput<I> {
  input: I;
  output: Json;
  error: ErrorInfo;
}

/** The config as the task's context shows it, defaults filled in as Cloudflare's step context does. */
export function publicConfig(name: string, config: TaskConfig = {}): TaskStepConfig {
  const policy = toPolicy(name, config);
  return {
    retries: { limit: policy.limit, delay: config.retries?.delay ?? DEFAULT_STEP_CONFIG.retries.delay, backoff: policy.backoff },
    timeout: config.timeout ?? DEFAULT_STEP_CONFIG.timeout,
  };
}

function context(args: StepArgs, name: string, count: number, params: Json | undefined, config: TaskStepConfig): TaskContext {
  return { params, env: args.env, stepId: args.stepId, attempt: args.attempt, signal: args.signal, step: { name, count }, config };
}

/** The saga passes the run's error as data; the rollback gets an Error, as Cloudflare's does. */
function asError({ name, message }: ErrorInfo): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

type Body = (args: StepArgs) => unknown;

export function taskBody(task: CallTask): Body {
  const config = publicConfig(task.name, task);
  const run = task.run as (needs: TaskInput["needs"], ctx: TaskContext) => unknown;
  return (args) => {
    const input = args.input as TaskInput;
    return run(input.needs, context(args, task.name, 1, input.params, config));
  };
}

export function taskRollbackBody(task: CallTask): Body {
  const config = publicConfig(task.name, task.rollbackConfig);
  const rollback = task.rollback as (undo: { output: unknown; error: Error; needs: TaskInput["needs"] }, ctx: TaskContext) => unknown;
  return (args) => {
    const { input, output, error } = args.input as UndoInput<TaskInput>;
    return rollback({ output: output ?? undefined, error: asError(error), needs: input.needs }, context(args, task.name, 1, input.params, config));
  };
}

export function itemBody(task: MapTask): Body {
  const config = publicConfig(task.name, task);
  const run = task.run as (item: Json, ctx: TaskContext & { index: number }) => unknown;
  return (args) => {
    const { item, index, params } = args.input as ItemInput;
    return run(item, { ...context(args, task.name, index + 1, params, config), index });
  };
}

export function itemRollbackBody(task: MapTask): Body {
  const config = publicConfig(task.name, task.rollbackConfig);
  const rollback = task.rollback as (undo: { item: Json; index: number; output: unknown; error: Error }, ctx: TaskContext & { index: number }) => unknown;
  return (args) => {
    const { input, output, error } = args.input as UndoInput<ItemInput>;
    const { item, index, params } = input;
    return rollback({ item, index, output: output ?? undefined, error: asError(error) }, { ...context(args, task.name, index + 1, params, config), index });
  };
}
