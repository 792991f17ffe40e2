import type { WorkflowWatch } from "../../runtime/workflow-watch";

/**
 * A workflow's watch as Server-Sent Events, beside the instance's event
 * stream (event-stream.ts) and read by the same reader
 * (server-sent-events.ts): each change a `data:` line of JSON, the first a
 * `sync`. There is no `id:`: a client that reconnects is sent a new `sync`
 * and reads the list again, rather than resuming, since a change is only
 * news and the list is the truth. The watch is disposed when the client goes
 * away; a watch that fails ends the stream with an error.
 */
export function changeStream(watch: WorkflowWatch): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: IteratorResult<unknown, void>;
      try {
        next = await watch.next();
      } catch (error) {
        watch[Symbol.dispose]();
        throw error;
      }
      if (next.done) return controller.close();
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(next.value)}\n\n`));
    },
    cancel() {
      watch[Symbol.dispose]();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
}
