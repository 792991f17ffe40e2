import { acceptedSocket } from "./accepted-socket";
import type { AppendBell } from "../../runtime/subscription";

/**
 * A subscription's bell on the Durable Object host: a socket to the
 * instance's object, opened by `open` (see subscriber-sockets.ts), whose
 * messages are the log's length, first as the socket opens, then after every
 * append. When the socket breaks (the object was evicted or crashed), the
 * waiting subscription wakes and reads from its cursor; its next wait opens a
 * new socket, whose first message covers whatever was appended meanwhile.
 */
export function subscriberBell(open: () => Promise<Response>): AppendBell {
  let socket: WebSocket | undefined;
  let connecting: Promise<void> | undefined;
  /** The log's length the object last told over the current socket; -1 until it has told it. */
  let latest = -1;
  let closed = false;
  const waiting: (() => void)[] = [];
  const wake = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };

  async function connect(): Promise<void> {
    const opened = await acceptedSocket(await open(), "The instance's object (for a subscription)");
    if (closed) return opened.close(1000, "unsubscribed");
    latest = -1;
    socket = opened;
    opened.addEventListener("message", (event) => {
      const told = Number(event.data);
      if (!Number.isSafeInteger(told)) return;
      latest = Math.max(latest, told);
      wake();
    });
    const broken = () => {
      if (socket === opened) socket = undefined;
      wake();
    };
    opened.addEventListener("close", broken);
    opened.addEventListener("error", broken);
  }

  return {
    async after(seq) {
      if (!socket && !closed) {
        connecting ??= connect().finally(() => (connecting = undefined));
        await connecting;
      }
      const current = socket;
      while (!closed && current && socket === current && latest <= seq) await new Promise<void>((resolve) => waiting.push(resolve));
    },
    close() {
      closed = true;
      socket?.close(1000, "unsubscribed");
      socket = undefined;
      wake();
    },
  };
}
