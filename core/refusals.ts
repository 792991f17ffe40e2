import { EventsPilingUpError, InstanceFinishedError, InvalidOperationError } from "./errors";
import { assertEventType, assertIdempotencyKey } from "./ids";
import { toJson, utf8Length, type Json } from "./json";
import type { RecordBody } from "./records";
import type { Ending } from "./state";
import { has } from "./table";

/** What any kind of instance needs to judge an event. */
export interface EventTarget {
  instanceId: string;
  ended: Ending | null;
  idempotencyKeys: Record<string, number>;
}

/**
 * How many events an instance holds before it takes them, and their payloads' bytes:
 * every held event lives in memory and in each snapshot until a state takes it.
 */
export const HELD_EVENTS_LIMIT = { events: 1000, bytes: 16 * 1024 * 1024 } as const;

const payloadBytes = (payload: Json | undefined) => (payload === undefined ? 0 : utf8Length(JSON.stringify(payload)));

/** Whether holding one more event, with this payload, passes the bound. */
function pastHeldBound(held: readonly (Json | undefined)[], payload: Json | undefined): boolean {
  if (held.length >= HELD_EVENTS_LIMIT.events) return true;
  let bytes = payloadBytes(payload);
  for (const heldPayload of held) {
    bytes += payloadBytes(heldPayload);
    if (bytes > HELD_EVENTS_LIMIT.bytes) return true;
  }
  return false;
}

/**
 * The record an event becomes, checked as every workflow kind checks it; a
 * refusal throws a typed error. Undefined when its idempotency key was seen:
 * a repeat is accepted and writes nothing. `held` are the payloads of the
 * events the instance holds and has not taken yet; an event it takes now is
 * never refused for them, or a full instance could not be sent the event it
 * waits for.
 */
export function eventRecord(
  target: EventTarget,
  event: { event: string; payload?: unknown; idempotencyKey?: string | undefined },
  held: readonly (Json | undefined)[],
  takenNow: () => boolean,
): RecordBody<"event.received"> | undefined {
  // A malformed event is refused as such whatever the instance's state, and its type is known to be text before a message shows it.
  assertEventType(event.event);
  assertIdempotencyKey(event.idempotencyKey);
  if (target.ended) throw new InstanceFinishedError(target.instanceId, target.ended.status, `receive the event "${event.event}"`);
  const payload = toJson(event.payload, "the event payload");
  if (event.idempotencyKey !== undefined && has(target.idempotencyKeys, event.idempotencyKey)) return undefined;
  // Asked only at the bound: whether a state takes the event costs a transition.
  if (pastHeldBound(held, payload) && !takenNow()) throw new EventsPilingUpError(target.instanceId, held.length, HELD_EVENTS_LIMIT);
  return {
    type: "event.received",
    data: { type: event.event, ...(payload === undefined ? {} : { payload }), ...(event.idempotencyKey === undefined ? {} : { idempotencyKey: event.idempotencyKey }) },
  };
}

export function cannotResume(instanceId: string, status: string): InvalidOperationError {
  return new InvalidOperationError("instance.cannot_resume", `Cannot resume instance "${instanceId}" with status "${status}": only a paused instance resumes.`);
}

export function cannotTerminate(instanceId: string, status: string): InvalidOperationError {
  return new InvalidOperationError("instance.cannot_terminate", `Cannot terminate instance "${instanceId}": it is already ${status}.`);
}

/** A `from` that is neither a step key nor `{ name, count?, type? }`: the caller's mistake, whatever the instance's state. */
export function invalidRestartFrom(problem: string): InvalidOperationError {
  return new InvalidOperationError(
    "restart.invalid_from",
    `restart({ from }) takes a step key as history() shows it, or { name, count?, type? } with a string name, a whole count from 1 and a type of "do", "sleep" or "waitForEvent"; ${problem}.`,
  );
}

/** What a refused value was, for a message, without turning the value itself into text. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function stepNotFound(from: string, instanceId: string): InvalidOperationError {
  return new InvalidOperationError("instance.cannot_restart", `Step "${from}" not found in the history of instance "${instanceId}"; restart from a step key that history() shows.`);
}
