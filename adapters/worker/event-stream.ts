import type { SubscribeOptions, WorkflowInstanceEvent } from "../../core/instance-events";
import type { InstanceStatusName } from "../../core/status";
import type { InstanceHandle } from "../../runtime/client";

const FINISHED: readonly InstanceStatusName[] = ["complete", "errored", "terminated"];

/**
 * What a stream request asks subscribe() for: the cursor from `Last-Event-ID`
 * (sent by a reconnecting EventSource, so it wins) or `?cursor=`, and the
 * event types of `?filter=`, comma-separated or repeated. subscribe() checks
 * them, so a bad value is refused as Cloudflare refuses it.
 */
export function streamOptions(request: Request, url: URL): SubscribeOptions {
  const cursor = request.headers.get("last-event-id") ?? url.searchParams.get("cursor");
  const filter = url.searchParams.getAll("filter").flatMap((types) => types.split(",")).filter(Boolean);
  return {
    ...(cursor === null ? {} : { cursor: cursor.trim() === "" ? Number.NaN : Number(cursor) }),
    ...(filter.length ? { filter: filter as SubscribeOptions["filter"] } : {}),
  };
}

/** A streamed step output cannot cross as JSON; the step history shows its preview. */
const asJson = (_key: string, value: unknown) => (value instanceof ReadableStream ? "[ReadableStream]" : value);

function message(event: WorkflowInstanceEvent): string {
  return `id: ${event.eventId}\ndata: ${JSON.stringify(event, asJson)}\n\n`;
}

/**
 * An instance's events as Server-Sent Events: each one an `id:` (its
 * eventId, so a reconnecting EventSource resumes after it) and a `data:` line
 * of JSON, live until the run's terminal event, when the stream ends. Each
 * live event is sent as its record is appended (subscribe() is rung by the
 * append, see runtime/subscription.ts), not at the next look. A
 * finished instance with nothing after the cursor answers 204, which tells
 * an EventSource to stop reconnecting.
 */
export async function eventStream(instance: InstanceHandle, options: SubscribeOptions): Promise<Response> {
  const subscription = await instance.subscribe(options);
  let first: IteratorResult<WorkflowInstanceEvent, void> | undefined;
  if (FINISHED.includes((await instance.status()).status)) {
    first = await subscription.next();
    if (first.done) return new Response(null, { status: 204 });
  }
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: IteratorResult<WorkflowInstanceEvent, void>;
      try {
        next = first ?? (await subscription.next());
      } catch (error) {
        // The stream errors, and cancel() is not called: the subscription's socket to the object closes here.
        subscription[Symbol.dispose]();
        throw error;
      }
      first = undefined;
      if (next.done) {
        subscription[Symbol.dispose]();
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(message(next.value)));
    },
    cancel() {
      subscription[Symbol.dispose]();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
}
