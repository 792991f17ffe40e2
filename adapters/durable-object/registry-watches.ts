import { TooManyWatchesError } from "../../core/errors";
import type { WorkflowChange } from "../../runtime/workflow-watch";
import { acceptTagged, openTagged } from "./tagged-sockets";

/**
 * The watches of a workflow on the Durable Object host. The workflow's
 * registry object already hears of every instance created, every change of
 * status and every deletion (each instance's outbox reports them), so it is
 * where a watch listens: over a hibernatable WebSocket from the Worker, to
 * which the registry sends each change it applies as JSON, the first message
 * a `sync` with the counts. A hibernatable socket costs the registry nothing
 * between changes (it may hibernate while watched) and the runtime holds the
 * sockets, not the object's memory; the Worker end keeps its unread changes
 * bounded (runtime/workflow-watch.ts). A socket that breaks (a deploy, a
 * reset) loses what was sent on it meanwhile: the Worker opens another,
 * whose first message is a new `sync`.
 */

/** The registry's path for a watch's socket. The public routes forward nothing to the registry, so only the Worker's own client opens one. */
export const WATCH_PATH = "/watch";

/** Tags watches' sockets. */
const WATCH_TAG = "watch";

/** Watches one workflow's registry keeps at most: every change is sent to each, and a Durable Object holds at most 32,768 hibernatable sockets. */
export const MAX_WATCHES = 1000;

/** Accepts a watch's socket and sends it the first `sync`; past the bound, refuses it as `TooManyWatchesError`. */
export function acceptWatch(ctx: DurableObjectState, workflow: string, sync: WorkflowChange): Response {
  return acceptTagged(ctx, WATCH_TAG, MAX_WATCHES, () => new TooManyWatchesError(workflow, MAX_WATCHES), JSON.stringify(sync));
}

/** Sends a change to every watch; a socket already closing is skipped, as its watch opens another and syncs. */
export function tellWatches(ctx: DurableObjectState, change: () => WorkflowChange): void {
  const sockets = openTagged(ctx, WATCH_TAG);
  if (!sockets.length) return;
  const text = JSON.stringify(change());
  for (const socket of sockets) socket.send(text);
}
