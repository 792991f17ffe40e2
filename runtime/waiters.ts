import type { Clock } from "./clock";

/**
 * A long poll's waiting room: requests that wait until something happens or
 * their deadline passes, whichever comes first. A waiter that times out
 * leaves the room, so a long-lived host does not keep one per poll it ever
 * answered.
 */
export class Waiters {
  /** In arrival order: `wakeOne` wakes the longest waiting. */
  private readonly waiting = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  /** Settles when woken, or at `deadline` on the clock. */
  until(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      let cancel = () => {};
      const wake = () => {
        this.waiting.delete(wake);
        cancel();
        resolve();
      };
      this.waiting.add(wake);
      cancel = this.clock.setTimer(deadline, wake);
    });
  }

  wakeOne(): void {
    const [first] = this.waiting;
    first?.();
  }

  wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }
}
