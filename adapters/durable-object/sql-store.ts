import type { LogRecord } from "../../core/records";
import type { StoredSnapshot } from "../../core/snapshot";
import { RECORD_FRAME_BYTES, type InstanceStore, type ReadRange } from "../../runtime/store";
import { SqlChunkStore } from "./sql-chunks";

/** Snapshots kept besides the newest: enough for a restart from a recent step without folding from the start. */
const SNAPSHOTS_KEPT = 2;

/**
 * A snapshot is stored as rows of at most this many bytes of its JSON's
 * UTF-8: a Durable Object's SQLite refuses a string, BLOB or row over 2 MB
 * (https://developers.cloudflare.com/durable-objects/platform/limits/), and a
 * machine's context has no bound of its own.
 */
export const SNAPSHOT_PART_BYTES = 1024 * 1024;

type Row = Record<string, SqlStorageValue>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
    const tables = new Set(sql.exec<Row>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('log', 'snapshots')").toArray().map((row) => row.name));
    this.ready = tables.has("log");
    if (tables.has("snapshots")) this.migrateSnapshots();
  }

  /** Asking about an instance that does not exist writes nothing: tables appear with the first record. */
  isEmpty(): boolean {
    return !this.ready || this.sql.exec("SELECT 1 FROM log LIMIT 1").toArray().length === 0;
  }

  append(records: readonly LogRecord[]): void {
    if (!this.ready) {
      this.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)");
      this.createSnapshotParts();
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

  /** The newest snapshot before `before`: its parts in order, joined as bytes before decoding (a part may end inside a character). */
  snapshot(before = Number.MAX_SAFE_INTEGER): StoredSnapshot | undefined {
    if (!this.ready) return undefined;
    const parts = this.sql
      .exec<Row>("SELECT bytes FROM snapshot_parts WHERE seq = (SELECT MAX(seq) FROM snapshot_parts WHERE seq < ?) ORDER BY part", Math.min(before, Number.MAX_SAFE_INTEGER))
      .toArray()
      .map((row) => new Uint8Array(row.bytes as ArrayBuffer));
    if (!parts.length) return undefined;
    const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return JSON.parse(decoder.decode(joined)) as StoredSnapshot;
  }

  /** Writes the snapshot's parts in the commit of the records it follows, then keeps the newest SNAPSHOTS_KEPT + 1 snapshots. */
  saveSnapshot(state: StoredSnapshot): void {
    this.writeSnapshot(state.seq, JSON.stringify(state));
    this.sql.exec(
      "DELETE FROM snapshot_parts WHERE seq NOT IN (SELECT DISTINCT seq FROM snapshot_parts ORDER BY seq DESC LIMIT ?)",
      SNAPSHOTS_KEPT + 1,
    );
  }

  /**
   * Drops every table the instance has (all but `keep`), in the current
   * commit: the instance no longer exists once it lands.
   */
  drop(keep: readonly string[]): void {
    const tables = this.sql
      .exec<Row>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
      .toArray()
      .map((row) => row.name as string);
    for (const table of tables) if (!keep.includes(table)) this.sql.exec(`DROP TABLE "${table}"`);
    this.forget();
  }

  /** After the object's storage was wiped: the tables are gone and come back with the next record. */
  forget(): void {
    this.ready = false;
    this.chunks.forget();
  }

  private createSnapshotParts(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS snapshot_parts (seq INTEGER NOT NULL, part INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (seq, part)) WITHOUT ROWID");
  }

  private writeSnapshot(seq: number, json: string): void {
    const bytes = encoder.encode(json);
    this.sql.exec("DELETE FROM snapshot_parts WHERE seq = ?", seq);
    for (let part = 0; part * SNAPSHOT_PART_BYTES < bytes.length; part++) {
      this.sql.exec("INSERT INTO snapshot_parts (seq, part, bytes) VALUES (?, ?, ?)", seq, part, bytes.slice(part * SNAPSHOT_PART_BYTES, (part + 1) * SNAPSHOT_PART_BYTES));
    }
  }

  /** Instances stored before snapshots were split kept each in one row of `snapshots`: they move to parts, once. */
  private migrateSnapshots(): void {
    this.createSnapshotParts();
    for (const row of this.sql.exec<Row>("SELECT seq, state FROM snapshots ORDER BY seq").toArray()) this.writeSnapshot(row.seq as number, row.state as string);
    this.sql.exec("DROP TABLE snapshots");
  }

  /** Bytes of log and snapshots, for footprint measurements. */
  bytes(): { log: number; snapshots: number } {
    if (!this.ready) return { log: 0, snapshots: 0 };
    const log = this.sql.exec<Row>("SELECT COALESCE(SUM(LENGTH(id) + LENGTH(type) + LENGTH(data) + 16), 0) AS n FROM log").one().n as number;
    const snapshots = this.sql.exec<Row>("SELECT COALESCE(SUM(LENGTH(bytes) + 8), 0) AS n FROM snapshot_parts").one().n as number;
    return { log, snapshots };
  }
}
