import type { LogRecord } from "../../core/records";
import type { PersistedState } from "../../core/snapshot";
import { RECORD_FRAME_BYTES, type InstanceStore, type ReadRange } from "../../runtime/store";
import { SqlChunkStore } from "./sql-chunks";

/** Snapshots kept besides the newest: enough for a restart from a recent step without folding from the start. */
const SNAPSHOTS_KEPT = 2;

type Row = Record<string, SqlStorageValue>;

/**
 * One instance's log and snapshots in its Durable Object's SQLite. Writes are
 * synchronous and the runtime commits the writes of one turn together, so a
 * batch of records lands atomically; the output gate holds every outgoing
 * message until it is durable.
 */
export class SqlInstanceStore implements InstanceStore {
  private ready: boolean;
  readonly chunks: SqlChunkStore;

  constructor(private readonly sql: SqlStorage) {
    this.chunks = new SqlChunkStore(sql);
    this.ready = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log'").toArray().length > 0;
  }

  /** Asking about an instance that does not exist writes nothing: tables appear with the first record. */
  isEmpty(): boolean {
    return !this.ready || this.sql.exec("SELECT 1 FROM log LIMIT 1").toArray().length === 0;
  }

  append(records: readonly LogRecord[]): void {
    if (!this.ready) {
      this.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, state TEXT NOT NULL)");
      this.ready = true;
    }
    for (const record of records) {
      this.sql.exec("INSERT INTO log (seq, id, at, type, data) VALUES (?, ?, ?, ?, ?)", record.seq, record.id, record.at, record.type, JSON.stringify(record.data));
    }
  }

  /**
   * The byte budget is summed by a window over `octet_length(data)`, which
   * SQLite answers from the row header without loading the text, so only
   * the rows returned are read in full.
   */
  read({ after = 0, before = Number.MAX_SAFE_INTEGER, limit = -1, bytes = Number.MAX_SAFE_INTEGER }: ReadRange = {}): LogRecord[] {
    if (!this.ready) return [];
    return this.sql
      .exec<Row>(
        `SELECT seq, id, at, type, data FROM log WHERE seq IN (
           SELECT seq FROM (
             SELECT seq, SUM(size) OVER (ORDER BY seq) AS total, ROW_NUMBER() OVER (ORDER BY seq) AS n
             FROM (SELECT seq, octet_length(data) + ? AS size FROM log WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?)
           ) WHERE total <= ? OR n = 1
         ) ORDER BY seq`,
        RECORD_FRAME_BYTES,
        after,
        Math.min(before, Number.MAX_SAFE_INTEGER),
        limit,
        Math.min(bytes, Number.MAX_SAFE_INTEGER),
      )
      .toArray()
      .map((row) => ({ seq: row.seq, id: row.id, at: row.at, type: row.type, data: JSON.parse(row.data as string) }) as LogRecord);
  }

  firstStart(key: string): number | undefined {
    if (!this.ready) return undefined;
    const [row] = this.sql
      .exec<Row>("SELECT seq FROM log WHERE type = 'step.started' AND json_extract(data, '$.key') = ? ORDER BY seq LIMIT 1", key)
      .toArray();
    return row?.seq as number | undefined;
  }

  snapshot(before = Number.MAX_SAFE_INTEGER): PersistedState | undefined {
    if (!this.ready) return undefined;
    const [row] = this.sql.exec<Row>("SELECT state FROM snapshots WHERE seq < ? ORDER BY seq DESC LIMIT 1", Math.min(before, Number.MAX_SAFE_INTEGER)).toArray();
    return row ? (JSON.parse(row.state as string) as PersistedState) : undefined;
  }

  saveSnapshot(state: PersistedState): void {
    this.sql.exec("INSERT OR REPLACE INTO snapshots (seq, state) VALUES (?, ?)", state.seq, JSON.stringify(state));
    this.sql.exec("DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)", SNAPSHOTS_KEPT + 1);
  }

  /** After the object's storage was wiped: the tables are gone and come back with the next record. */
  forget(): void {
    this.ready = false;
    this.chunks.forget();
  }

  /** Bytes of log and snapshots, for footprint measurements. */
  bytes(): { log: number; snapshots: number } {
    if (!this.ready) return { log: 0, snapshots: 0 };
    const log = this.sql.exec<Row>("SELECT COALESCE(SUM(LENGTH(id) + LENGTH(type) + LENGTH(data) + 16), 0) AS n FROM log").one().n as number;
    const snapshots = this.sql.exec<Row>("SELECT COALESCE(SUM(LENGTH(state) + 8), 0) AS n FROM snapshots").one().n as number;
    return { log, snapshots };
  }
}
