import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { deserialize } from "node:v8";

/**
 * Cloudflare's local Workflows engine, read from its own storage after a run: Miniflare keeps each instance's engine
 * (a Durable Object) in a SQLite file under `<persistTo>/v3/workflows/miniflare-workflows-<workflow>/`, with a log
 * (`states`) whose rows carry the engine's own times (SQLite's clock, to the millisecond, the same wall clock as
 * Date.now() in workerd). Its status() shows no times at all, so this is how the bench learns when the engine
 * recorded the run's end, as our log's `at` tells it for ours. Read-only, once the run is over, so it slows nothing.
 */

/** Event numbers of the engine's log (`states.event`), as Miniflare's workflows engine names them. */
const WORKFLOW_SUCCESS = 2;

export interface TheirInstanceStorage {
  /** Rows the instance's database holds, per table: its own, and its key-value pairs (the `_cf_KV` table). */
  rows: Record<string, number>;
  /** page_count × page_size: what ctx.storage.sql.databaseSize reports for a Durable Object. */
  databaseSize: number;
}

export class TheirLogs {
  /** Each engine database's instance id, once read: a file's instance never changes. */
  private readonly instanceOf = new Map<string, string>();

  private readonly persistTo: string;

  constructor(persistTo: string) {
    this.persistTo = persistTo;
  }

  /** When the engine wrote the run's success into its log. */
  completedAt(instanceId: string): number | undefined {
    return this.read(instanceId, (db) => {
      const row = db.prepare("SELECT timestamp FROM states WHERE event = ? ORDER BY id LIMIT 1").get(WORKFLOW_SUCCESS) as { timestamp: string } | undefined;
      return row ? Date.parse(`${row.timestamp.replace(" ", "T")}Z`) : undefined;
    });
  }

  storage(instanceId: string): TheirInstanceStorage {
    return this.read(instanceId, (db) => {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
        .map((row) => row.name)
        .filter((name) => name === "_cf_KV" || !(name.startsWith("sqlite_") || name.startsWith("_cf_")));
      const rows = Object.fromEntries(tables.map((table) => [table, (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n]));
      const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
      const pageSize = (db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
      return { rows, databaseSize: pages * pageSize };
    });
  }

  private read<T>(instanceId: string, use: (db: DatabaseSync) => T): T {
    const file = this.fileOf(instanceId);
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return use(db);
    } finally {
      db.close();
    }
  }

  /** The engine database that holds `instanceId`: its INSTANCE_METADATA key (V8-serialized, as workerd stores values) names it. */
  private fileOf(instanceId: string): string {
    for (const [file, id] of this.instanceOf) if (id === instanceId) return file;
    const root = join(this.persistTo, "v3", "workflows");
    for (const folder of readdirSync(root)) {
      for (const name of readdirSync(join(root, folder))) {
        const file = join(root, folder, name);
        if (!name.endsWith(".sqlite") || name === "metadata.sqlite" || this.instanceOf.has(file)) continue;
        const db = new DatabaseSync(file, { readOnly: true });
        try {
          const row = db.prepare("SELECT value FROM _cf_KV WHERE key = 'INSTANCE_METADATA'").get() as { value: Uint8Array } | undefined;
          if (!row) continue;
          const id = (deserialize(Buffer.from(row.value)) as { instance: { id: string } }).instance.id;
          this.instanceOf.set(file, id);
          if (id === instanceId) return file;
        } finally {
          db.close();
        }
      }
    }
    throw new Error(`No engine database under ${root} holds instance ${instanceId}.`);
  }
}
