import { InvalidEventError, InvalidInstanceIdError, show } from "./errors";

/** Cloudflare Workflows' rule for instance ids. */
const INSTANCE_ID = /^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,99}$/;

export function isInstanceId(id: unknown): id is string {
  return typeof id === "string" && INSTANCE_ID.test(id);
}

export function assertInstanceId(id: unknown): asserts id is string {
  if (!isInstanceId(id)) throw new InvalidInstanceIdError(id);
}

/** Event types follow the id rule too, which also keeps XState's reserved `xstate.*` events out of reach. */
export function assertEventType(type: unknown): asserts type is string {
  if (typeof type !== "string" || !INSTANCE_ID.test(type)) {
    throw new InvalidEventError(
      `Event type ${show(type)} is invalid: use 1 to 100 letters, digits, "-" or "_", not starting with "-".`,
    );
  }
}

export function assertIdempotencyKey(key: unknown): asserts key is string | undefined {
  if (key !== undefined && (typeof key !== "string" || key.length === 0 || key.length > 256)) {
    throw new InvalidEventError(`idempotencyKey must be a string of 1 to 256 characters, got ${show(key)}.`);
  }
}
