import { DurableObject } from "cloudflare:workers";
import type { InstanceStatusName } from "../../core/status";
import type { InstanceSummary, ListQuery } from "../../runtime/client";
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
    // list() pages by creation time, the id breaking ties, with or without a status; the index by (status, id) that paged by id goes.
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS instances_by_creation ON instances (created_at, id)");
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS instances_by_status_and_creation ON instances (status, created_at, id)");
    ctx.storage.sql.exec("DROP INDEX IF EXISTS instances_by_status");
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

  /** The instances after the query's position in its order: up to `limit + 1`, so the caller knows whether more follow (runtime/client.ts's listPage). */
  async list(query: ListQuery): Promise<InstanceSummary[]> {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (query.status !== undefined) {
      where.push("status = ?");
      args.push(query.status);
    }
    const direction = query.order === "newest" ? "DESC" : "ASC";
    if (query.after) {
      where.push(`(created_at, id) ${direction === "DESC" ? "<" : ">"} (?, ?)`);
      args.push(query.after.createdAt, query.after.id);
    }
    const rows = this.ctx.storage.sql
      .exec<Row>(
        `SELECT id, status, created_at, updated_at FROM instances ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at ${direction}, id ${direction} LIMIT ?`,
        ...args,
        query.limit + 1,
      )
      .toArray();
    return rows.map((row) => ({ id: row.id as string, status: row.status as InstanceStatusName, createdAt: row.created_at as number, updatedAt: row.updated_at as number }));
  }
}

/**
 * The registry class createWorkflows hands out: it needs nothing from the
 * options, so it is one module-level class, which declarations can name.
 */
export function createRegistryObject(): typeof WorkflowRegistry {
  return WorkflowRegistry;
}
