import type { LogRecord } from "../core/records";
import type { PersistedState } from "../core/snapshot";

/** One instance's durable storage: the append-only log and the snapshots that cache its fold. */
export interface InstanceStore {
  /** Appends in one atomic write; records arrive with dense, increasing seq. */
  append(records: readonly LogRecord[]): void;
  /** Records with `after < seq < before`, in order, at most `limit`. */
  read(range?: { after?: number; before?: number; limit?: number }): LogRecord[];
  /** Seq of the record where a step key first started, if it ever did. */
  firstStart(key: string): number | undefined;
  /** The newest snapshot with seq below `before` (any, without it). */
  snapshot(before?: number): PersistedState | undefined;
  saveSnapshot(state: PersistedState): void;
}
