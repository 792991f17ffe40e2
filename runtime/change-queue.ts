import type { WorkflowChange, WorkflowWatch } from "./workflow-watch";

/** Unread changes a watch holds at most: past this its reader has fallen behind, and they give way to one `sync`. */
export const MAX_UNREAD_CHANGES = 100;

/**
 * A watch's side of the host: changes pushed in as the host makes them, read
 * by next(). Memory stays bounded whatever the reader does: when
 * MAX_UNREAD_CHANGES wait unread, they are dropped for one `sync` with the
 * newest counts, which tells the reader to read the list again.
 */
export class ChangeQueue implements WorkflowWatch {
  private unread: WorkflowChange[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;

  /** `onDispose` lets the host forget the watch (close its socket, drop it from its set). */
  constructor(private readonly onDispose: () => void) {}

  push(change: WorkflowChange): void {
    if (this.ended) return;
    if (this.unread.length >= MAX_UNREAD_CHANGES) this.unread = [{ type: "sync", counts: change.counts }];
    else this.unread.push(change);
    this.notify();
  }

  /** The host can no longer be watched: changes read so far are still given, then next() rejects with `error`. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.ended = true;
    this.onDispose();
    this.notify();
  }

  async next(): Promise<IteratorResult<WorkflowChange, void>> {
    for (;;) {
      const change = this.unread.shift();
      if (change) return { done: false, value: change };
      if (this.failure) throw this.failure.error;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<WorkflowChange, void> {
    return { next: () => this.next(), return: async () => (this[Symbol.dispose](), { done: true, value: undefined }) };
  }

  [Symbol.dispose](): void {
    if (this.ended) return;
    this.ended = true;
    this.unread = [];
    this.onDispose();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
