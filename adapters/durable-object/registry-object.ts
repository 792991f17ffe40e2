import { DurableObject } from "cloudflare:workers";
import type { InstanceStatusName } from "../../core/status";
import { statusCounts, type InstanceSummary, type ListQuery } from "../../runtime/client";
import type { StatusCounts } from "../../runtime/workflow-watch";
import { ClaimQueue } from "./claim-queue";
import { closeSocket } from "./close-socket";
import { acceptWatch, tellWatches, WATCH_PATH } from "./registry-watches";

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
 * One object per workflow that indexes its instances by status and creation
 * time, so listing never wakes the instances themselves. Instances report
 * each status change and each deletion from their outbox until this object
 * acknowledges it, so a report can come twice or late: `update` keeps the
 * newest by seq and `remove` forgets whatever it holds. What it applies it
 * tells the workflow's watches (registry-watches.ts). For a workflow served
 * by Python it also holds the queue of instances that want a worker
 * (claim-queue.ts).
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
    // The counts per status, kept with every change so that counts() and each change told to a watch read a row per status, not the whole index.
    // A registry stored before the table existed fills it once from the instances it lists, in the same commit.
    ctx.storage.transactionSync(() => {
      const stored = ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'status_counts'").toArray().length > 0;
      if (stored) return;
      ctx.storage.sql.exec("CREATE TABLE status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL)");
      ctx.storage.sql.exec("INSERT INTO status_counts (status, n) SELECT status, COUNT(*) FROM instances GROUP BY status");
    });
  }

  /** A report of an instance's status: kept unless an equal or newer one is held; a creation or a change is told to the watches. */
  async update(_workflow: string, entry: RegistryEntry): Promise<void> {
    const sql = this.ctx.storage.sql;
    const [before] = sql.exec<Row>("SELECT status, created_at, seq FROM instances WHERE id = ?", entry.id).toArray();
    if (before && entry.seq <= (before.seq as number)) return;
    sql.exec(
      `INSERT INTO instances (id, status, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, seq = excluded.seq`,
      entry.id,
      entry.status,
      entry.createdAt,
      entry.updatedAt,
      entry.seq,
    );
    if (before?.status !== entry.status) {
      if (before) this.count(before.status as InstanceStatusName, -1);
      this.count(entry.status, 1);
    }
    // The first report's creation time stays: a later report of the same incarnation carries the same one.
    const instance = { id: entry.id, status: entry.status, createdAt: before ? (before.created_at as number) : entry.createdAt, updatedAt: entry.updatedAt };
    tellWatches(this.ctx, () => ({ type: before ? "updated" : "created", instance, counts: this.statusCounts() }));
  }

  /** The instance wants a Python worker: queued for the next claim, or handed to a claim waiting now. */
  async want(id: string): Promise<void> {
    this.claims.want(id);
  }

  /** The oldest instance that wants a Python worker, taken off the queue; waits up to `waitMs` (at most 25 s) for one, then null. */
  async next(waitMs: number): Promise<string | null> {
    return (await this.claims.next(waitMs)) ?? null;
  }

  /** Forgets an instance; one it held is told to the watches as deleted. */
  async remove(id: string): Promise<void> {
    const [gone] = this.ctx.storage.sql.exec<Row>("DELETE FROM instances WHERE id = ? RETURNING status", id).toArray();
    if (!gone) return;
    this.count(gone.status as InstanceStatusName, -1);
    tellWatches(this.ctx, () => ({ type: "deleted", id, counts: this.statusCounts() }));
  }

  /** How many instances have each status, as the registry last heard; statuses without any are left out. */
  async counts(): Promise<Partial<Record<InstanceStatusName, number>>> {
    const rows = this.ctx.storage.sql.exec<{ status: string; n: number }>("SELECT status, n FROM status_counts WHERE n > 0").toArray();
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  /**
   * A watch's socket (registry-watches.ts), opened by the Worker's client at
   * WATCH_PATH with the workflow's name; it is sent a `sync` with the counts,
   * then every change this object applies.
   */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== WATCH_PATH || request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "request.not_websocket", message: `Open a watch as a WebSocket at ${WATCH_PATH}.` } }, { status: 426 });
    }
    return acceptWatch(this.ctx, url.searchParams.get("workflow") ?? "", { type: "sync", counts: this.statusCounts() });
  }

  /** A watch closed or dropped its socket: answer its close frame if the runtime has not. Nothing a watch sends means anything. */
  override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
    closeSocket(socket, code, "closed");
  }

  private count(status: InstanceStatusName, by: number): void {
    this.ctx.storage.sql.exec("INSERT INTO status_counts (status, n) VALUES (?, ?) ON CONFLICT (status) DO UPDATE SET n = n + excluded.n", status, by);
  }

  private statusCounts(): StatusCounts {
    const rows = this.ctx.storage.sql.exec<{ status: string; n: number }>("SELECT status, n FROM status_counts").toArray();
    return statusCounts(Object.fromEntries(rows.map((row) => [row.status, row.n])));
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
