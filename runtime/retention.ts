import type { LogRecord } from "../core/records";
import { DEFAULT_RETENTION, expiresAt, type Retention } from "../core/retention";
import type { Ending } from "../core/state";
import type { InstanceStore } from "./store";

/**
 * When a finished instance is due for deletion, from the retention its first
 * record keeps and the time of its last record (where it finished: nothing
 * is appended to a finished instance).
 */
export class Expiry {
  private retention: Retention | undefined;

  constructor(private readonly store: InstanceStore) {}

  at(ended: Ending | null, endedAt: number): number | undefined {
    if (!ended) return undefined;
    this.retention ??= (this.store.read({ limit: 1 })[0] as LogRecord<"instance.created">).data.retention ?? DEFAULT_RETENTION;
    return expiresAt(ended, endedAt, this.retention);
  }

  due(ended: Ending | null, endedAt: number, now: number): boolean {
    const at = this.at(ended, endedAt);
    return at !== undefined && at <= now;
  }
}
