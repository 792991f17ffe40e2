import type { ChunkStore } from "../../runtime/store";

type Row = Record<string, SqlStorageValue>;

/**
 * The rows of streamed step outputs in the object's SQLite, beside the log:
 * one BLOB a row (a Durable Object's SQLite row holds at most 2 MB), keyed by
 * step key, attempt and index. The table appears with the first row.
 */
export class SqlChunkStore implements ChunkStore {
  private ready: boolean;

  constructor(private readonly sql: SqlStorage) {
    this.ready = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stream_chunks'").toArray().length > 0;
  }

  write(key: string, attempt: number, index: number, bytes: Uint8Array): void {
    if (!this.ready) {
      this.sql.exec("CREATE TABLE IF NOT EXISTS stream_chunks (key TEXT NOT NULL, attempt INTEGER NOT NULL, idx INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (key, attempt, idx)) WITHOUT ROWID");
      this.ready = true;
    }
    this.sql.exec("INSERT OR REPLACE INTO stream_chunks (key, attempt, idx, bytes) VALUES (?, ?, ?, ?)", key, attempt, index, bytes);
  }

  read(key: string, attempt: number, index: number): Uint8Array | undefined {
    if (!this.ready) return undefined;
    const [row] = this.sql.exec<Row>("SELECT bytes FROM stream_chunks WHERE key = ? AND attempt = ? AND idx = ?", key, attempt, index).toArray();
    return row ? new Uint8Array(row.bytes as ArrayBuffer) : undefined;
  }

  drop(key: string, attempt: number): void {
    if (this.ready) this.sql.exec("DELETE FROM stream_chunks WHERE key = ? AND attempt = ?", key, attempt);
  }

  keepOnly(outputs: readonly { key: string; attempt: number }[]): void {
    if (!this.ready) return;
    const kept = new Set(outputs.map(({ key, attempt }) => `${key}\u0000${attempt}`));
    for (const { key, attempt } of this.sql.exec<Row>("SELECT DISTINCT key, attempt FROM stream_chunks").toArray()) {
      if (!kept.has(`${key}\u0000${attempt}`)) this.sql.exec("DELETE FROM stream_chunks WHERE key = ? AND attempt = ?", key, attempt);
    }
  }

  bytes(): number {
    if (!this.ready) return 0;
    return this.sql.exec<Row>("SELECT COALESCE(SUM(LENGTH(bytes)), 0) AS n FROM stream_chunks").one().n as number;
  }

  /** After the object's storage was wiped: the table is gone and comes back with the next row. */
  forget(): void {
    this.ready = false;
  }
}
