import type { DagShape } from "./diagram";
import { instancePath, type Api } from "./api";

/** What the dashboard takes from the inspection socket (docs/inspection.md): how far the log goes, the machine's definition, its context. */
export interface InspectHandlers {
  /** The newest seq when the socket opened: the log view starts from there. */
  tail(seq: number): void;
  /** The machine's definition (its JSON form, as @xstate.actor carries it). */
  definition(definition: MachineJson): void;
  /** The machine's context after a move. */
  context(context: unknown): void;
}

/** A machine definition as XState serialises it: the states, nested, and their transitions. */
export interface MachineJson {
  id?: string;
  type?: string;
  states?: Record<string, MachineJson>;
  on?: Record<string, unknown>;
  after?: Record<string, unknown>;
  always?: unknown;
  invoke?: unknown;
  /** A DAG's shape; `run: "code"` on a code-first run's lifecycle, whose graph its steps make (core/inspection.ts definitionOf). */
  meta?: { dag?: DagShape; run?: "code" };
  /** At the root, the named delays' lengths (core/inspection.ts definitionOf): milliseconds, or "computed". */
  delays?: Record<string, number | "computed">;
}

/** A DAG workflow's tasks, as its machine's meta carries them (core/dag): the shape the diagram draws. */
export type { DagShape } from "./diagram";

interface InspectMessage {
  type: string;
  seq?: number;
  sessionId?: string;
  definition?: string;
  snapshot?: { context?: unknown };
}

/**
 * Opens an instance's inspection socket. A browser's WebSocket cannot send
 * the Authorization header, and a URL must not carry the token: a ticket
 * for this one path (POST /api/tickets, under the token) stands in for it.
 */
export async function openInspectSocket(api: Api, workflow: string, id: string, handlers: InspectHandlers): Promise<WebSocket> {
  const url = new URL(`/api${instancePath(workflow, id)}/inspect`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("ticket", await api.ticket(url.pathname));
  const socket = new WebSocket(url);
  socket.addEventListener("message", (message: MessageEvent<string>) => {
    const event = JSON.parse(message.data) as InspectMessage;
    if (event.type === "@durable-machines.tail" && event.seq !== undefined) handlers.tail(event.seq);
    if (event.type.startsWith("@durable-machines.") || event.sessionId !== id) return;
    if (event.type === "@xstate.actor" && event.definition) handlers.definition(JSON.parse(event.definition) as MachineJson);
    if (event.snapshot?.context !== undefined) handlers.context(event.snapshot.context);
  });
  return socket;
}
