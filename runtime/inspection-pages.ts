import { foldCode, type CodeState } from "../core/code/fold";
import type { AnyWorkflowDefinition } from "../core/definition";
import { fold } from "../core/fold";
import { InspectionStream, type InspectedState } from "../core/inspection";
import { utf8Length } from "../core/json";
import type { InstanceState } from "../core/state";
import { restore, type PersistedState } from "../core/snapshot";
import { MAX_HISTORY_LIMIT, MAX_PAGE_BYTES } from "./client";
import type { InstanceStore } from "./store";

/** On connect, the socket replays at most this many of the newest records: those after the newest snapshot, when it is nearer. */
export const INSPECT_TAIL_RECORDS = 100;
/** The most inspection-event JSON a connect's tail or one page of older events carries, in UTF-8 bytes; the newest record's events always come. */
export const INSPECT_PAGE_BYTES = 1024 * 1024;
/** Records a history request covers when it names no `limit`; at most MAX_HISTORY_LIMIT. */
export const INSPECT_DEFAULT_LIMIT = 100;

/**
 * The instance's state after record `seq` (undefined before the first): from
 * the newest snapshot at or before it, then the records after that, folded a
 * page at a time so that no more than a page is held.
 */
export function stateAfter(def: AnyWorkflowDefinition, store: InstanceStore, seq: number): InspectedState | undefined {
  const snapshot = store.snapshot(seq + 1);
  let state: InspectedState | undefined = snapshot && (def.kind === "machine" ? restore(def, snapshot as PersistedState) : (snapshot as CodeState));
  const context = { stateBefore: (cut: number) => stateAfter(def, store, cut - 1) as never };
  for (let after = snapshot?.seq ?? 0; after < seq; ) {
    const page = store.read({ after, before: seq + 1, limit: MAX_HISTORY_LIMIT, bytes: MAX_PAGE_BYTES });
    if (!page.length) break;
    state = def.kind === "code" ? foldCode(page, state as CodeState | undefined, context) : fold(def, page, state as InstanceState | undefined, context);
    after = page.at(-1)!.seq;
  }
  return state;
}

/** An inspection stream that carries on after record `seq`, folding what a restart needs from the store. */
export function inspectionStreamAfter(def: AnyWorkflowDefinition, store: InstanceStore, seq: number): InspectionStream {
  const state = stateAfter(def, store, seq);
  return new InspectionStream(def, { ...(state ? { state } : {}), stateBefore: (before) => stateAfter(def, store, before - 1)! });
}

/**
 * The events of the records in (after, before), as JSON, keeping only the
 * newest that fit in INSPECT_PAGE_BYTES (the newest record's always), and the
 * seq of the first record they cover. The stream ends at `before - 1`.
 */
function newestEvents(stream: InspectionStream, store: InstanceStore, after: number, before: number): { from: number; events: string[] } {
  const kept: { seq: number; events: string[]; bytes: number }[] = [];
  let bytes = 0;
  for (let last = after; last < before - 1; ) {
    const page = store.read({ after: last, before, limit: MAX_HISTORY_LIMIT, bytes: MAX_PAGE_BYTES });
    if (!page.length) break;
    for (const record of page) {
      const events = stream.push([record]).map((event) => JSON.stringify(event));
      const size = events.reduce((sum, event) => sum + utf8Length(event) + 1, 0);
      kept.push({ seq: record.seq, events, bytes: size });
      bytes += size;
      while (bytes > INSPECT_PAGE_BYTES && kept.length > 1) bytes -= kept.shift()!.bytes;
    }
    last = page.at(-1)!.seq;
  }
  return { from: kept[0]?.seq ?? before, events: kept.flatMap((group) => group.events) };
}

/**
 * What a socket is sent when it connects, as JSON messages: a
 * `@durable-machines.tail` message (the newest seq, and `from`, the first
 * record the tail covers), the root actor with its definition and current
 * snapshot and an actor per open step, then the tail's events. Also the
 * stream, which stands at the newest record, for live records to follow.
 */
export function openingMessages(def: AnyWorkflowDefinition, store: InstanceStore, end: number): { messages: string[]; stream: InspectionStream } {
  const snapshotSeq = store.snapshot()?.seq ?? 0;
  const after = Math.max(0, snapshotSeq, end - INSPECT_TAIL_RECORDS);
  const stream = inspectionStreamAfter(def, store, after);
  const tail = newestEvents(stream, store, after, end + 1);
  const marker = JSON.stringify({ type: "@durable-machines.tail", seq: end, from: tail.from });
  return { messages: [marker, ...stream.announce().map((event) => JSON.stringify(event)), ...tail.events], stream };
}

/** A message from a socket client, checked: only `{ type: "history", before, limit? }` is asked of the server. */
export function historyRequest(message: unknown, end: number): { before: number; limit: number } | { error: string } {
  if (typeof message !== "string" || message.length > 1024) return { error: "Send a history request as a short JSON text message." };
  let request: unknown;
  try {
    request = JSON.parse(message);
  } catch {
    return { error: "The message is not JSON." };
  }
  const { type, before, limit = INSPECT_DEFAULT_LIMIT } = (typeof request === "object" && request !== null ? request : {}) as { type?: unknown; before?: unknown; limit?: unknown };
  if (type !== "history") return { error: 'The only request is { "type": "history", "before": <seq>, "limit": <n> }.' };
  if (typeof before !== "number" || !Number.isSafeInteger(before) || before < 1) return { error: "before must be a whole number from 1: the seq the page ends before." };
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) return { error: `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}.` };
  return { before: Math.min(before, end + 1), limit: Math.min(limit, MAX_HISTORY_LIMIT) };
}

/**
 * The answer to a history request, as one JSON message: the inspection
 * events of up to `limit` records before `before`, the newest that fit in
 * INSPECT_PAGE_BYTES, with `from`, the first record they cover (ask again
 * with `before: from` for the page before; from 1 means the start).
 */
export function historyAnswer(def: AnyWorkflowDefinition, store: InstanceStore, { before, limit }: { before: number; limit: number }): string {
  const after = Math.max(0, before - 1 - limit);
  const { from, events } = before > 1 ? newestEvents(inspectionStreamAfter(def, store, after), store, after, before) : { from: before, events: [] };
  return `{"type":"@durable-machines.history","before":${before},"from":${from},"events":[${events.join(",")}]}`;
}
