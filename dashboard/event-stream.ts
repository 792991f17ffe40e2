import type { WorkflowInstanceEvent } from "../core/instance-events";
import { ApiCallError, instancePath, type Api } from "./api";

/** One Server-Sent Event: its `id:` and its `data:` lines joined. */
export interface ServerSentEvent {
  id?: string;
  data: string;
}

/** Splits a text/event-stream body into events, as they arrive (the format: https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(buffer.slice(end).match(/^\r?\n\r?\n/)![0].length + end);
        const event = parseBlock(block);
        if (event) yield event;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block: string): ServerSentEvent | undefined {
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon === 0) continue;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    if (field === "data") data.push(value);
  }
  return data.length ? { ...(id === undefined ? {} : { id }), data: data.join("\n") } : undefined;
}

/** How long to wait before reconnecting a stream that broke, growing to a ceiling. */
const RECONNECT_MS = [500, 1_000, 2_000, 5_000];

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
