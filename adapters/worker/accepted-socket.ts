import { reviveError } from "../../runtime/wire";

/**
 * The Worker's end of a hibernatable socket to a Durable Object (a watch's to
 * the registry, a subscription's bell to its instance): the upgrade's
 * response, accepted, or the object's refusal (its typed error revived, such
 * as too many sockets) thrown.
 */
export async function acceptedSocket(response: Response, refuser: string): Promise<WebSocket> {
  const opened = response.webSocket;
  if (response.status !== 101 || !opened) {
    const body = (await response.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
    throw body?.error ? reviveError(body.error) : new Error(`${refuser} refused the socket with status ${response.status}.`);
  }
  opened.accept();
  return opened;
}
