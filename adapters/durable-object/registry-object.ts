import { DurableObject } from "cloudflare:workers";
import type { InstanceStatusName } from "../../core/status";
import type { InstanceSummary } from "../../runtime/client";
import { ClaimQueue } from "./claim-queue";

export interface RegistryEntry {
  id: string;
  status: InstanceStatusName;
  createdAt: number;
  updatedAt: number;
  /** The instance's log position when it reported; a report older than the stored one is dropped. */
  seq: number;
}

type Row = Record<string, SqlStorageValue>;

/**
 * One object per workflow that indexes its instances by status, so listing
 * never wakes the instances themselves. Instances report each status change
 * and each deletion from their outbox until this object acknowledges it, so
 * a report can come twice or late: `update` keeps the newest by seq and
 * `remove` forgets whatever it holds. For a workflow served by Python it
 * also holds the queue of instances that want a worker (claim-queue.ts).
 */
export class WorkflowRegistry extends DurableObject<Record<string, unknown>> {
  private readonly claims: ClaimQueue;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.claims = new ClaimQueue(ctx.storage.sql);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL, seq INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS instances_by_status ON instances (status, id)");
    const columns = ctx.storage.sql.exec<{ name: string }>("PRAGMA table_info(instances)").toArray().map((column) => column.name);
    if (!columns.includes("updated_at")) ctx.storage.sql.exec("ALTER TABLE instances ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0");
  }

  async update(_workflow: string, entry: RegistryEntry): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO instances (id, status, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, seq = excluded.seq WHERE excluded.seq > instances.seq`,
      entry.id,
      entry.status,
      entry.createdAt,
      entry.updatedAt,
      entry.seq,
    );
  }

  /** The instance wants a Python worker: queued for the next claim, or handed to a claim waiting now. */
  async want(id: string): Promise<void> {
    this.claims.want(id);
  }

  /** The oldest instance that wants a Python worker, taken off the queue; waits up to `waitMs` (at most 25 s) for one, then null. */
  async next(waitMs: number): Promise<string | null> {
    return (await this.claims.next(waitMs)) ?? null;
  }

  async remove(id: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM instances WHERE id = ?", id);
  }

  /** How many instances have each status, as the registry last heard; statuses without any are left out. */
  async counts(): Promise<Partial<Record<InstanceStatusName, number>>> {
    const rows = this.ctx.storage.sql.exec<{ status: string; n: number }>("SELECT status, COUNT(*) AS n FROM instances GROUP BY status").toArray();
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async list(options: { status?: InstanceStatusName; limit: number; cursor?: string }): Promise<{ instances: InstanceSummary[]; cursor?: string }> {
    const rows = this.ctx.storage.sql
      .exec<Row>(
        "SELECT id, status, created_at, updated_at FROM instances WHERE (? IS NULL OR status = ?) AND id > ? ORDER BY id LIMIT ?",
        options.status ?? null,
        options.status ?? null,
        options.cursor ?? "",
        options.limit + 1,
      )
      .toArray();
    const instances = rows.slice(0, options.limit).map((row) => ({ id: row.id as string, status: row.status as InstanceStatusName, createdAt: row.created_at as number, updatedAt: row.updated_at as number }));
    return rows.length > options.limit ? { instances, cursor: instances.at(-1)!.id } : { instances };
  }
}

/**
 * The registry class createWorkflows hands out: it needs nothing from the
 * options, so it is one module-level class, which declarations can name.
 */
export function createRegistryObject(): typeof WorkflowRegistry {
  return WorkflowRegistry;
}
