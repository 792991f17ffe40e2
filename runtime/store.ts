import { utf8Length } from "../core/json";
import type { LogRecord } from "../core/records";
import type { StoredSnapshot } from "../core/snapshot";

export interface ReadRange {
  after?: number;
  before?: number;
  limit?: number;
  /** A budget for the records read, counted as `recordBytes` counts them; the first record comes whatever its size. */
  bytes?: number;
}

/**
 * What a record's JSON cannot exceed beyond its data's JSON: the keys, two
 * 16-digit numbers, a ULID, the longest type, and the few bytes a redacted
 * output can add ("[REDACTED]" for a shorter output).
 */
export const RECORD_FRAME_BYTES = 192;

/** A bound on a record's JSON in UTF-8 bytes, from its data's JSON text; stores count byte budgets with it. */
export function recordBytes(dataJson: string): number {
  return utf8Length(dataJson) + RECORD_FRAME_BYTES;
}

/** One instance's durable storage: the append-only log and the snapshots that cache its fold. */
export interface InstanceStore {
  /** Appends in one atomic write; records arrive with dense, increasing seq. */
  append(records: readonly LogRecord[]): void;
  /** Records with `after < seq < before`, in order, at most `limit`, and no more than `bytes` of them as measured by `recordBytes` (but always the first). */
  read(range?: ReadRange): LogRecord[];
  /** Seq of the record where a step key first started, if it ever did. */
  firstStart(key: string): number | undefined;
  /** The newest snapshot with seq below `before` (any, without it). */
  snapshot(before?: number): StoredSnapshot | undefined;
  saveSnapshot(state: StoredSnapshot): void;
  /** The bytes of streamed step outputs. */
  readonly chunks: ChunkStore;
}

/**
 * Rows of bytes that code-first steps returned as ReadableStreams, by step
 * key, the attempt that wrote them and their index. A row counts only once
 * a `step.succeeded` record names its key and attempt; any other is garbage.
 */
export interface ChunkStore {
  write(key: string, attempt: number, index: number, bytes: Uint8Array): void;
  read(key: string, attempt: number, index: number): Uint8Array | undefined;
  /** Drops the rows one attempt of `key` wrote. */
  drop(key: string, attempt: number): void;
  /** Drops every row that belongs to none of these outputs. */
  keepOnly(outputs: readonly { key: string; attempt: number }[]): void;
  /** Bytes all rows hold. */
  bytes(): number;
}
