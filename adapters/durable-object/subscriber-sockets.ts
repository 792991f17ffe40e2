import { TooManySubscribersError } from "../../core/errors";
import { acceptTagged, openTagged } from "./tagged-sockets";

/**
 * The bell of a subscription on the Durable Object host. The subscription
 * lives in the Worker and reads the instance's log over RPC, a page of at most
 * 4 MiB at a time; it learns that the log grew from a hibernatable WebSocket
 * to the instance's object, which sends the log's length (its last seq) when
 * the socket opens and again on every append, from the driver's `onAppend`.
 *
 * Why a socket, not a long poll or a stream over RPC: an RPC held open in the
 * object (until an append or a bound) keeps the object awake and billed for as
 * long as anyone subscribes, a run waiting days for an event included, and
 * so does a ReadableStream returned over RPC; a hibernatable socket lets the
 * object hibernate while nothing happens, and costs nothing until the next
 * append, which wakes it anyway. Why only the length, not the records: what a
 * subscription delivers is read from the log after its own cursor, so a ring
 * that never arrives (the socket broke in an eviction or a crash) or arrives
 * twice loses or repeats nothing. A broken socket wakes the subscription,
 * which reads from its cursor, then opens a new socket, whose first message
 * covers every append made while it had none.
 */

/** The object's path for a subscriber's socket. The public routes forward only /api paths to the object, so only the Worker's own client opens one. */
export const SUBSCRIBER_PATH = "/subscribe";

/** Tags subscribers' sockets, apart from live inspection's. */
const SUBSCRIBER_TAG = "subscriber";

/** Subscriptions one object keeps at most: every append rings each, and a Durable Object holds at most 32,768 hibernatable sockets in all. */
export const MAX_SUBSCRIBERS = 1000;

/** Accepts a subscriber's socket and tells it where the log stands; past the bound, refuses it as `TooManySubscribersError`. */
export function acceptSubscriber(ctx: DurableObjectState, instanceId: string, seq: number): Response {
  return acceptTagged(ctx, SUBSCRIBER_TAG, MAX_SUBSCRIBERS, () => new TooManySubscribersError(instanceId, MAX_SUBSCRIBERS), String(seq));
}

/** Rings every subscriber with the log's new length; a socket already closing is skipped, as its subscription opens another and reads from its own cursor. */
export function ringSubscribers(ctx: DurableObjectState, seq: number): void {
  for (const socket of openTagged(ctx, SUBSCRIBER_TAG)) socket.send(String(seq));
}

export function isSubscriber(ctx: DurableObjectState, socket: WebSocket): boolean {
  return ctx.getTags(socket).includes(SUBSCRIBER_TAG);
}
