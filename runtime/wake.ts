import type { Clock } from "./clock";
import type { Alarm } from "./driver";

/**
 * When a driver next needs waking: the host's durable alarm when it has one
 * (set only when the time or the busy flag changes, since each set is a
 * storage write), else a timer on the clock.
 */
export class WakeUp {
  private lastSet: { at: number | undefined; busy: boolean } | undefined;
  private timerAt: number | undefined;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly alarm: Alarm | undefined,
    private readonly ring: () => void,
  ) {}

  /** `at`: the next timer or retry; `expiresAt`: when a finished instance is due for deletion. */
  arm(at: number | undefined, busy: boolean, expiresAt?: number): void {
    const when = at ?? expiresAt;
    if (this.alarm) {
      if (this.lastSet && this.lastSet.at === when && this.lastSet.busy === busy) return;
      this.lastSet = { at: when, busy };
      this.alarm.set(when, busy);
      return;
    }
    if (when === this.timerAt) return;
    this.cancel();
    this.timerAt = when;
    if (when === undefined) return;
    const ring = () => {
      this.cancelTimer = undefined;
      this.timerAt = undefined;
      this.ring();
    };
    this.cancelTimer = this.clock.setTimer(when, ring, { background: at === undefined });
  }

  /** The alarm rang and is used up: the next `arm` sets it again whatever it was. */
  rang(): void {
    this.lastSet = undefined;
    this.timerAt = undefined;
  }

  cancel(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = undefined;
  }
}
