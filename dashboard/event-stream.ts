import type { WorkflowInstanceEvent } from "../core/instance-events";
import { serverSentEvents } from "../adapters/worker/server-sent-events";
import { ApiCallError, instancePath, type Api } from "./api";

/** How long to wait before reconnecting a stream that broke, growing to a ceiling. */
export const RECONNECT_MS = [500, 1_000, 2_000, 5_000];

/**
 * An instance's events, live, from the API's event stream read with fetch
 * (an EventSource cannot send the Authorization header): every event since
 * the start, then each as it is written, until the run's terminal event or
 * `signal` aborts. A broken connection reconnects after the last event seen;
 * a refusal from the API is thrown.
 */
export async function followInstance(api: Api, workflow: string, id: string, signal: AbortSignal, onEvent: (event: WorkflowInstanceEvent) => void): Promise<void> {
  let cursor: string | undefined;
  for (let failures = 0; !signal.aborted; ) {
    try {
      const body = await api.stream(`${instancePath(workflow, id)}/events${cursor === undefined ? "" : `?cursor=${cursor}`}`, signal);
      if (!body) return;
      for await (const event of serverSentEvents(body)) {
        cursor = event.id ?? cursor;
        failures = 0;
        onEvent(JSON.parse(event.data) as WorkflowInstanceEvent);
      }
      return;
    } catch (error) {
      if (signal.aborted) return;
      // The API refused (the instance was deleted, the token is wrong): asking again would be refused again.
      if (error instanceof ApiCallError) throw error;
      const wait = RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]!;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
