import { assertSubscribeOptions, InstanceEventStream, TERMINAL_EVENTS, type CodeFirstCheck, type SubscribeOptions, type WorkflowInstanceEvent } from "../core/instance-events";
import type { LogRecord } from "../core/records";
import { replayStream } from "./stream-output";

/** One stored row of a step's streamed output, wherever the host keeps it. */
export type ChunkReader = (key: string, attempt: number, index: number) => Promise<Uint8Array | undefined>;

/** Cloudflare's `WorkflowInstanceSubscription`. */
export interface InstanceSubscription {
  next(): Promise<IteratorResult<WorkflowInstanceEvent, void>>;
  [Symbol.dispose](): void;
}

const FIRST_POLL_MS = 20;
const LAST_POLL_MS = 500;

/**
 * Cloudflare's `subscribe()` over any host's history: events after `cursor`
 * in order, then new ones as they are appended (read by polling the log,
 * backing off from 20 ms to 500 ms while nothing happens), done after the
 * run's terminal event, even when the filter hides it. `read` gives one page
 * of the log, bounded by count and bytes, and the next is read only once this
 * one's events are taken, so a long log is never held whole. A step that returned
 * a ReadableStream completes with a fresh stream, whose rows are read only
 * as its reader pulls them. A code-first run's moves between running and
 * waiting show as workflow_running and workflow_waiting.
 */
export function subscribe(
  instanceId: string,
  read: (after: number) => Promise<LogRecord[]>,
  readChunk: ChunkReader,
  isCodeFirst: CodeFirstCheck,
  options?: SubscribeOptions,
): InstanceSubscription {
  assertSubscribeOptions(options);
  const cursor = options?.cursor ?? 0;
  const filter = options?.filter;
  const stream = new InstanceEventStream(instanceId, (key, attempt, stored) => replayStream(stored, (index) => readChunk(key, attempt, index)), isCodeFirst);
  const queue: WorkflowInstanceEvent[] = [];
  let readUpTo = 0;
  let finished = false;
  let disposed = false;
  let pollMs = FIRST_POLL_MS;
  const done = { done: true, value: undefined } as const;
  /** Whether a read found nothing new: from then on the subscription follows the run live. */
  let caughtUp = false;
  /** Reads what the log added since the last read; false when nothing was added. */
  const pull = async () => {
    const records = await read(readUpTo);
    caughtUp ||= !records.length;
    if (!records.length) return false;
    readUpTo = records.at(-1)!.seq;
    queue.push(...stream.push(records));
    return true;
  };

  return {
    async next() {
      for (;;) {
        if (disposed || (finished && !queue.length)) return done;
        const event = queue.shift();
        if (event) {
          // The end of the run followed live ends the subscription. In history, one that a restart followed does not:
          // the log keeps the earlier run, and the subscription reads on to the end of the run that is current.
          if (TERMINAL_EVENTS.includes(event.type) && (caughtUp || (!queue.length && !(await pull())))) {
            finished = true;
            queue.length = 0;
          }
          if (event.eventId > cursor && (!filter || filter.includes(event.type))) return { done: false, value: event };
          continue;
        }
        if (await pull()) {
          pollMs = FIRST_POLL_MS;
          continue;
        }
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        pollMs = Math.min(pollMs * 2, LAST_POLL_MS);
      }
    },
    [Symbol.dispose]() {
      disposed = true;
    },
  };
}
