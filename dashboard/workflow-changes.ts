import { serverSentEvents } from "../adapters/worker/server-sent-events";
import { ApiCallError, workflowPath, type Api, type WorkflowChange } from "./api";
import { RECONNECT_MS } from "./event-stream";

/**
 * A workflow's changes, live, from the API's change stream read with fetch
 * (an EventSource cannot send the Authorization header), until `signal`
 * aborts: every connection begins with a `sync`, after which the list is read
 * again, so a connection that broke (and the changes it missed) costs a read
 * of the list, nothing more. `onLive` says whether a connection is open. A
 * refusal from the API is thrown: asking again would be refused again.
 */
export async function followWorkflow(api: Api, workflow: string, signal: AbortSignal, onChange: (change: WorkflowChange) => void, onLive: (live: boolean) => void): Promise<void> {
  for (let failures = 0; !signal.aborted; ) {
    try {
      const body = await api.stream(`${workflowPath(workflow)}/changes`, signal);
      if (!body) return;
      for await (const event of serverSentEvents(body)) {
        failures = 0;
        onLive(true);
        onChange(JSON.parse(event.data) as WorkflowChange);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiCallError) throw error;
    }
    onLive(false);
    if (signal.aborted) return;
    const wait = RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]!;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
