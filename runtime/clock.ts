/** Where a host gets time and wake-ups; tests and embedders inject their own. */
export interface Clock {
  now(): number;
  /**
   * Calls `fn` once at or after `at`; the returned function cancels it. A
   * `background` timer (a finished instance's deletion) does not keep a Node
   * process alive on its own.
   */
  setTimer(at: number, fn: () => void, options?: { background?: boolean }): () => void;
}

/** setTimeout cannot wait longer than this; longer waits are chained. */
const MAX_TIMEOUT = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at, fn, { background = false } = {}) {
    let handle: ReturnType<typeof setTimeout>;
    const arm = () => {
      const wait = at - Date.now();
      handle = setTimeout(wait > MAX_TIMEOUT ? arm : fn, Math.max(0, Math.min(wait, MAX_TIMEOUT)));
      // Workers return a number here; Node a Timeout that can be unref'd.
      if (background) (handle as { unref?: () => void }).unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};
