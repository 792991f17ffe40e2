import { systemClock, type Clock } from "../runtime/clock";

let ahead = 0;

/**
 * The system clock, moved ahead on demand: lets a test reach a retry or a
 * 24-hour timeout without waiting for it. The tests share one isolate with
 * the Durable Objects under test, so every object sees the same offset.
 */
export const skewClock: Clock = {
  now: () => Date.now() + ahead,
  setTimer: (at, fn) => systemClock.setTimer(at - ahead, fn),
};

export function skipAhead(ms: number): void {
  ahead += ms;
}
