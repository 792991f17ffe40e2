import { DurableObject } from "cloudflare:workers";

/**
 * An object outside both engines that the benchmark workflows report to: a
 * run's last step (or, for the wide workload, its run() once the last batch is
 * done) calls mark() with the time its body ran, and the bench endpoint that
 * started the run waits in wait() for that mark. So nobody reads either
 * engine's status while its steps run; the only read-backs come after the
 * work is done (bench/worker.ts, `settle`).
 *
 * One object for every run, keyed by the run's tag, created at the Worker's
 * first request (/ping), so no mark pays for creating it.
 */
export class Stopwatch extends DurableObject {
  private readonly marks = new Map<string, { at: number; heard: number }>();
  private readonly waiters = new Map<string, Array<(mark: { at: number; heard: number }) => void>>();

  /** `at` is the time the reporting body read; `heard` the time the mark arrived here, one RPC later. */
  mark(tag: string, at: number): void {
    const mark = { at, heard: Date.now() };
    this.marks.set(tag, mark);
    for (const resolve of this.waiters.get(tag) ?? []) resolve(mark);
    this.waiters.delete(tag);
  }

  /** Answers once `tag` has been marked (at once if it already was), and forgets it. */
  async wait(tag: string): Promise<{ at: number; heard: number }> {
    const mark = this.marks.get(tag) ?? (await new Promise<{ at: number; heard: number }>((resolve) => this.waiters.set(tag, [...(this.waiters.get(tag) ?? []), resolve])));
    this.marks.delete(tag);
    return mark;
  }

  ping(): number {
    return Date.now();
  }
}
