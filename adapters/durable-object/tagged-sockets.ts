import type { DurableMachinesError } from "../../core/errors";

/**
 * Hibernatable WebSockets a Durable Object keeps under one tag, bounded: the
 * instance's subscribers (subscriber-sockets.ts) and the registry's watches
 * (registry-watches.ts). The runtime holds the sockets, not the object's
 * memory, and a Durable Object holds at most 32,768 hibernatable sockets in
 * all, so each kind keeps at most `max`.
 */

/** Accepts a socket under `tag` and sends it `first`; past `max` sockets of that tag, answers 429 with the error `refusal` makes. */
export function acceptTagged(ctx: DurableObjectState, tag: string, max: number, refusal: () => DurableMachinesError, first: string): Response {
  if (ctx.getWebSockets(tag).length >= max) {
    const { code, message } = refusal();
    return Response.json({ error: { code, message } }, { status: 429 });
  }
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  ctx.acceptWebSocket(server, [tag]);
  server.send(first);
  return new Response(null, { status: 101, webSocket: client });
}

/** The open sockets under `tag`: one already closing is left out, as its other end opens another and catches up. */
export function openTagged(ctx: DurableObjectState, tag: string): WebSocket[] {
  return ctx.getWebSockets(tag).filter((socket) => socket.readyState === WebSocket.READY_STATE_OPEN);
}
