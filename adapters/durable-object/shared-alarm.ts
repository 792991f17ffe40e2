import type { Clock } from "../../runtime/clock";

/** Who wants the object woken: the instance's driver (timers, retries, keep-alive, retention) or its unacknowledged registry report. */
export type AlarmUser = "driver" | "report";

/**
 * A Durable Object has one alarm; the driver and the registry outbox each
 * want it at their own time. This keeps both wishes and sets the alarm to
 * the earlier one, so neither overwrites the other, and tells the alarm
 * handler whose time has come, so a ring meant for one leaves the other be.
 * Times are the instances' clock; the alarm is set at the matching real time.
 */
export class SharedAlarm {
  private readonly wishes = new Map<AlarmUser, number>();
  /** What the storage alarm is set to, as far as this object knows; null until it first sets it. */
  private setAt: number | undefined | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly clock: Clock,
  ) {}

  want(user: AlarmUser, at: number | undefined): void {
    if (at === undefined) this.wishes.delete(user);
    else this.wishes.set(user, at);
    this.apply();
  }

  wanted(user: AlarmUser): number | undefined {
    return this.wishes.get(user);
  }

  /** Whether `user`'s time has come. */
  due(user: AlarmUser): boolean {
    const at = this.wishes.get(user);
    return at !== undefined && at <= this.clock.now();
  }

  /**
   * The alarm rang and is used up. The wishes stand: whoever was due takes
   * its turn and says what it wants next; `apply` then sets the alarm again.
   */
  rang(): void {
    this.setAt = null;
  }

  /** Sets the alarm again from the wishes, after `rang`. */
  apply(): void {
    let at: number | undefined;
    for (const wish of this.wishes.values()) at = Math.min(at ?? wish, wish);
    if (at === this.setAt) return;
    this.setAt = at;
    const ahead = this.clock.now() - Date.now();
    void (at === undefined ? this.storage.deleteAlarm() : this.storage.setAlarm(at - ahead));
  }
}
