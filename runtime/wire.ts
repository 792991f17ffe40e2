import {
  DefinitionMismatchError,
  DurableMachinesError,
  EventsPilingUpError,
  InstanceExistsError,
  InstanceFinishedError,
  InstanceNotFoundError,
  InvalidDefinitionError,
  InvalidDurationError,
  InvalidEventError,
  InvalidInstanceIdError,
  InvalidOperationError,
  LeaseLostError,
  NotPythonError,
  NotSerializableError,
  PayloadTooDeepError,
  PayloadTooLargeError,
  TooManySubscribersError,
  UnknownWorkflowError,
} from "../core/errors";

/**
 * Errors cross a Durable Object's RPC boundary without their class or code
 * (workerd keeps the name of built-in errors only), so hosts send them as
 * data and the receiving side revives the class from the code.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

const CLASSES: [prefix: string, type: abstract new (...args: never[]) => DurableMachinesError][] = [
  ["workflow.not_found", UnknownWorkflowError],
  ["workflow.not_python", NotPythonError],
  ["lease.lost", LeaseLostError],
  ["instance.invalid_id", InvalidInstanceIdError],
  ["instance.already_exists", InstanceExistsError],
  ["instance.not_found", InstanceNotFoundError],
  ["instance.finished", InstanceFinishedError],
  ["instance.cannot_", InvalidOperationError],
  ["restart.invalid_from", InvalidOperationError],
  ["payload.not_serializable", NotSerializableError],
  ["payload.too_large", PayloadTooLargeError],
  ["payload.too_deep", PayloadTooDeepError],
  ["event.too_many_waiting", EventsPilingUpError],
  ["subscription.too_many", TooManySubscribersError],
  ["event.invalid", InvalidEventError],
  ["duration.invalid", InvalidDurationError],
  ["definition.invalid", InvalidDefinitionError],
  ["definition.mismatch", DefinitionMismatchError],
];

export function reviveError(error: { code: string; message: string }): DurableMachinesError {
  const type = CLASSES.find(([prefix]) => error.code.startsWith(prefix))?.[1] ?? DurableMachinesError;
  const revived = Object.create(type.prototype) as DurableMachinesError & { code: string };
  Object.defineProperties(revived, {
    code: { value: error.code, enumerable: true },
    message: { value: error.message, writable: true, configurable: true },
    name: { value: type.name, writable: true, configurable: true },
    stack: { value: `${type.name}: ${error.message}`, writable: true, configurable: true },
  });
  return revived;
}

/** Runs `work`; a refusal of ours becomes data, anything else stays thrown (a bug, which must not pass as a refusal). */
export async function capture<T>(work: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (error instanceof DurableMachinesError) return { ok: false, error: { code: error.code, message: error.message } };
    throw error;
  }
}

export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw reviveError(outcome.error);
}
