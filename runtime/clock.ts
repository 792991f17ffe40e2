/** Where a host gets time and wake-ups; tests and embedders inject their own. */
export interface Clock {
  now(): number;
  /** Calls `fn` once at or after `at`; the returned function cancels it. */
  setTimer(at: number, fn: () => void): () => void;
}

/** setTimeout cannot wait longer than this; longer waits are chained. */
const MAX_TIMEOUT = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at, fn) {
    let handle: ReturnType<typeof setTimeout>;
    const arm = () => {
      const wait = at - Date.now();
      handle = setTimeout(wait > MAX_TIMEOUT ? arm : fn, Math.max(0, Math.min(wait, MAX_TIMEOUT)));
    };
    arm();
    return () => clearTimeout(handle);
  },
};
