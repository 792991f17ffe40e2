import { ChangeQueue } from "../../runtime/change-queue";
import { acceptedSocket } from "./accepted-socket";
import type { WorkflowChange, WorkflowWatch } from "../../runtime/workflow-watch";

/**
 * A watch on the Durable Object host: a socket to the workflow's registry
 * object, opened by `open` (see adapters/durable-object/registry-watches.ts),
 * whose messages are the changes the registry applies, the first a `sync`.
 * Unread changes stay bounded in the ChangeQueue. When the socket breaks
 * (a deploy or a reset of the registry), the watch opens another, whose
 * `sync` tells the reader to read the list again; a socket that breaks
 * before its `sync` came, or one that cannot be opened, fails the watch
 * instead, so a registry that keeps refusing is never asked in a loop.
 */
export async function watchRegistry(open: () => Promise<Response>): Promise<WorkflowWatch> {
  let socket: WebSocket | undefined;
  const watch = new ChangeQueue(() => {
    const closing = socket;
    socket = undefined;
    closing?.close(1000, "unwatched");
  });

  async function connect(): Promise<void> {
    const opened = await acceptedSocket(await open(), "The workflow's registry (for a watch)");
    socket = opened;
    let synced = false;
    opened.addEventListener("message", (event) => {
      if (socket !== opened || typeof event.data !== "string") return;
      synced = true;
      watch.push(JSON.parse(event.data) as WorkflowChange);
    });
    const broken = () => {
      // Closed by the watch's own dispose, or already replaced.
      if (socket !== opened) return;
      socket = undefined;
      if (!synced) return watch.fail(new Error("The workflow's registry closed the watch's socket before it synced; watch again."));
      connect().catch((error: unknown) => watch.fail(error));
    };
    opened.addEventListener("close", broken);
    opened.addEventListener("error", broken);
  }

  await connect();
  return watch;
}
