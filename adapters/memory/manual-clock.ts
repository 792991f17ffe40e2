import type { Clock } from "../../runtime/clock";

export interface ManualClock extends Clock {
  /**
   * Moves time forward, firing every timer that comes due, earliest first, each at its own time. Timers fire
   * synchronously: promise callbacks they start run only once advance() has returned, so whatever must act at a
   * timer's time (a step's timeout, say) acts in the timer's own call.
   */
  advance(ms: number): void;
  /** How many timers wait to fire. */
  pending(): number;
}

/** A clock that moves only when told to: timers, retries and timeouts under a test's control. */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let order = 0;
  const timers = new Map<number, { at: number; order: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(at, fn) {
      const handle = order++;
      timers.set(handle, { at, order: handle, fn });
      return () => void timers.delete(handle);
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let next: [number, { at: number; order: number; fn: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].at <= target && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].order < next[1].order))) next = entry;
        }
        if (!next) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = target;
    },
    pending: () => timers.size,
  };
}
