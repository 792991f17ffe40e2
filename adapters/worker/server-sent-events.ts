/**
 * Reads the Server-Sent Events the API's event stream writes (event-stream.ts
 * beside this file): what the dashboard and the CLI both follow an instance
 * with, since neither can use EventSource (it cannot send the Authorization
 * header).
 */

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
