import type { CodeKernel } from "./decide";
import { get } from "../table";

/**
 * Whether a pass of run() has caught up with the log: called every step, sleep and wait the log held when the pass
 * began. Until then a call may be one the log answers; after, each new step call gets a new key and (the instance
 * running, nothing rolling back) starts its first attempt the moment it arrives. A caller that knows this may run a
 * step's body as it makes the call and hand in the outcome with it: one commit for the step instead of two.
 */
export interface Replay {
  /** The log's last seq when the pass began: a key first started at or before it is one the pass had to call again. */
  from: number;
  /** Keys the log held that the pass has not called yet. */
  behind: number;
}

/** A pass beginning over the log as it stands. */
export function replayOf(kernel: CodeKernel): Replay {
  return { from: kernel.state.seq, behind: Object.keys(kernel.state.book.firstStarted).length };
}

/** The pass called `key`: one fewer to catch up on if the log held it. Each key is called once per pass. */
export function called(replay: Replay, kernel: CodeKernel, key: string): void {
  if ((get(kernel.state.book.firstStarted, key) ?? Infinity) <= replay.from) replay.behind -= 1;
}

/**
 * How many more step calls of this pass each start attempt 1 at once, as they arrive: none while the pass is behind
 * the log, the instance is paused, rolling back or over, or the pass only reads the log; else what the step limit allows.
 */
export function freshStepsLeft(replay: Replay, kernel: CodeKernel, stepLimit: number): number {
  const { book } = kernel.state;
  const { session } = kernel;
  const still = replay.behind > 0 || book.paused || book.ended || session.saga || session.readOnly || (book.rollback !== null && !book.rollback.finished);
  return still ? 0 : Math.max(0, stepLimit - session.steps);
}
