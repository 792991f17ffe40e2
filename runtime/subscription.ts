import { assertSubscribeOptions, InstanceEventStream, TERMINAL_EVENTS, type CodeFirstCheck, type SubscribeOptions, type WorkflowInstanceEvent } from "../core/instance-events";
import type { LogRecord } from "../core/records";
import { replayStream } from "./stream-output";

/** One stored row of a step's streamed output, wherever the host keeps it. */
export type ChunkReader = (key: string, attempt: number, index: number) => Promise<Uint8Array | undefined>;

/**
 * How a host tells a subscription that the instance's log grew: rung by the
 * driver's appends, never by a timer. It only says when to read again; what
 * is read always comes from the log after the subscription's own cursor, so a
 * ring that is lost with a connection, or one too many, loses or repeats
 * nothing.
 */
export interface AppendBell {
  /** Settles once the log may hold records after `seq`: at once if it may already, else at the next append. Settling early is allowed (the log is read and found unchanged); late never. */
  after(seq: number): Promise<void>;
  /** Stops listening; a pending `after` settles. */
  close(): void;
}

/**
 * Cloudflare's `WorkflowInstanceSubscription`, declared as theirs is: through
 * the global `Disposable`, so the declarations also check under a `lib` older
 * than ESNext, where `Symbol.dispose` is not typed.
 */
export interface InstanceSubscription extends Disposable {
  next(): Promise<IteratorResult<WorkflowInstanceEvent, void>>;
}

/**
 * Cloudflare's `subscribe()` over any host's history: events after `cursor`
 * in order, then new ones as they are appended (the host's bell rings on each
 * append, and the subscription reads what follows its last record), done
 * after the run's terminal event, even when the filter hides it. `read` gives
 * one page of the log, bounded by count and bytes, and the next is read only
 * once this one's events are taken, so a long log is never held whole. The
 * bell is opened only once the subscription has caught up with the log, and
 * closed when it ends or is disposed. A step that returned a ReadableStream
 * completes with a fresh stream, whose rows are read only as its reader pulls
 * them. A code-first run's moves between running and waiting show as
 * workflow_running and workflow_waiting.
 */
export function subscribe(
  instanceId: string,
  read: (after: number) => Promise<LogRecord[]>,
  readChunk: ChunkReader,
  isCodeFirst: CodeFirstCheck,
  openBell: () => AppendBell,
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
  let bell: AppendBell | undefined;
  const done = { done: true, value: undefined } as const;
  const end = () => {
    bell?.close();
    bell = undefined;
  };
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
            end();
          }
          if (event.eventId > cursor && (!filter || filter.includes(event.type))) return { done: false, value: event };
          continue;
        }
        if (await pull()) continue;
        if (disposed) return done;
        bell ??= openBell();
        await bell.after(readUpTo);
      }
    },
    [Symbol.dispose]() {
      disposed = true;
      end();
    },
  };
}
