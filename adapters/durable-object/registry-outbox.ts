import type { InstanceStatusName } from "../../core/status";
import type { InstanceSummaryState } from "../../runtime/hosted";
import type { RegistryEntry } from "./registry-object";

export interface RegistryStub {
  update(workflow: string, entry: RegistryEntry): Promise<void>;
  remove(id: string): Promise<void>;
}

/** How long after a status change, or a failed delivery, the alarm tries the report again; doubled per failure, up to the cap. */
export const REPORT_RETRY_MS = 5_000;
const MAX_REPORT_RETRY_MS = 5 * 60_000;

interface OutboxRow {
  workflow: string;
  instanceId: string;
  /** The registry may still list a deleted incarnation of this instance; it must forget it before hearing of a new one. */
  removal: boolean;
  /** The status the registry should hold, null once the instance is deleted. */
  status: InstanceStatusName | null;
  createdAt: number | null;
  updatedAt: number | null;
  seq: number | null;
  /** The registry has not acknowledged a report of this status at this seq or newer. */
  owed: boolean;
}

type Row = Record<string, SqlStorageValue>;

/** The outbox's one table, which outlives the instance's own until the registry has forgotten it. */
export const OUTBOX_TABLE = "registry_outbox";

/**
 * The instance's side of the workflow's registry: what the registry should
 * know of it, in one row of the object's SQLite, written in the same commit
 * as the records that changed the status, so no crash can lose it. A report
 * stays owed until the registry acknowledges one at least as new; delivery
 * runs one call at a time, in order (a removal is never overtaken by an
 * older report), and a failed one asks for the alarm to try again.
 */
export class RegistryOutbox {
  private ready: boolean;
  private row: OutboxRow | undefined;
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private soon = false;
  private failures = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly registryOf: (workflow: string) => RegistryStub,
    private readonly now: () => number,
    /** When the alarm should next try a delivery (undefined: nothing owed). */
    private readonly retryAt: (at: number | undefined) => void,
    /** The registry forgot the deleted instance and nothing else is owed: the object drops its last row and its alarm. */
    private readonly cleared: () => Promise<void>,
  ) {
    this.ready = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", OUTBOX_TABLE).toArray().length > 0;
    this.row = this.read();
    // Woken with something owed (after a crash, an eviction, a ring): the alarm stays set for it until it is delivered.
    if (this.pending()) this.armRetry();
  }

  /** Whether this object ever wrote the row: instances stored before the outbox existed have none. */
  exists(): boolean {
    return this.ready;
  }

  /** Something is left to do: a report or removal the registry has not acknowledged, or a deleted instance's last row to drop. */
  pending(): boolean {
    return this.row !== undefined && (this.row.removal || this.row.owed || this.row.status === null);
  }

  /** The instance's status as it now stands; a change is owed to the registry from this very commit. Answers whether it was a change. */
  noteStatus(summary: InstanceSummaryState): boolean {
    if (this.row?.status === summary.status) return false;
    this.create();
    this.sql.exec(
      `INSERT INTO ${OUTBOX_TABLE} (slot, workflow, instance_id, removal, status, created_at, updated_at, seq, owed) VALUES (0, ?, ?, 0, ?, ?, ?, ?, 1)
       ON CONFLICT (slot) DO UPDATE SET workflow = excluded.workflow, instance_id = excluded.instance_id, status = excluded.status,
         created_at = excluded.created_at, updated_at = excluded.updated_at, seq = excluded.seq, owed = 1`,
      summary.workflow,
      summary.instanceId,
      summary.status,
      summary.createdAt,
      summary.updatedAt,
      summary.seq,
    );
    this.row = this.read();
    this.armRetry();
    return true;
  }

  /** The instance was deleted in this commit: the registry must forget it. */
  noteRemoval(workflow: string, instanceId: string): void {
    this.create();
    this.sql.exec(
      `INSERT INTO ${OUTBOX_TABLE} (slot, workflow, instance_id, removal, status, created_at, updated_at, seq, owed) VALUES (0, ?, ?, 1, NULL, NULL, NULL, NULL, 0)
       ON CONFLICT (slot) DO UPDATE SET removal = 1, status = NULL, created_at = NULL, updated_at = NULL, seq = NULL, owed = 0`,
      workflow,
      instanceId,
    );
    this.row = this.read();
    this.armRetry();
  }

  /** Delivers what is owed once the current burst of work is done: a run of quick steps changes status often, and the registry needs where it settled. */
  deliverSoon(): void {
    if (this.soon) return;
    this.soon = true;
    setTimeout(() => {
      this.soon = false;
      void this.deliver();
    }, 0);
  }

  /** Delivers what is owed, after any delivery under way; never throws (a failure leaves it owed and the alarm set to retry). */
  deliver(): Promise<void> {
    this.queued ??= this.enqueue(async () => {
      this.queued = undefined;
      await this.send();
    });
    return this.queued;
  }

  /**
   * Tells the registry to forget an instance this object does not hold (a
   * row listed but gone), in order with this object's own reports. Nothing
   * is written here, so asking about ids that never existed stores nothing;
   * a failure is thrown to the caller.
   */
  forgetUnknown(workflow: string, instanceId: string): Promise<void> {
    return this.enqueue(() => this.registryOf(workflow).remove(instanceId));
  }

  /** After the object's storage was wiped: the table is gone and comes back with the next note. */
  forget(): void {
    this.ready = false;
    this.row = undefined;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async send(): Promise<void> {
    for (let row = this.row; row && (row.removal || row.owed); row = this.row) {
      const registry = this.registryOf(row.workflow);
      try {
        if (row.removal) {
          await registry.remove(row.instanceId);
          this.sql.exec(`UPDATE ${OUTBOX_TABLE} SET removal = 0 WHERE slot = 0`);
        } else {
          const entry: RegistryEntry = { id: row.instanceId, status: row.status!, createdAt: row.createdAt!, updatedAt: row.updatedAt!, seq: row.seq! };
          await registry.update(row.workflow, entry);
          this.sql.exec(`UPDATE ${OUTBOX_TABLE} SET owed = 0 WHERE slot = 0 AND seq <= ?`, entry.seq);
        }
        this.row = this.read();
      } catch (error) {
        this.failures++;
        const delay = Math.min(REPORT_RETRY_MS * 2 ** (this.failures - 1), MAX_REPORT_RETRY_MS);
        this.retryAt(this.now() + delay);
        console.error(`durable-machines: the registry did not take the report of ${row.workflow}/${row.instanceId}; the object's alarm tries again in ${delay / 1000} s.`, error);
        return;
      }
    }
    this.failures = 0;
    if (this.row?.status === null) return this.cleared();
    this.retryAt(undefined);
  }

  private armRetry(): void {
    this.retryAt(this.now() + REPORT_RETRY_MS);
  }

  private create(): void {
    if (this.ready) return;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${OUTBOX_TABLE} (slot INTEGER PRIMARY KEY CHECK (slot = 0), workflow TEXT NOT NULL, instance_id TEXT NOT NULL,
         removal INTEGER NOT NULL, status TEXT, created_at INTEGER, updated_at INTEGER, seq INTEGER, owed INTEGER NOT NULL)`,
    );
    this.ready = true;
  }

  private read(): OutboxRow | undefined {
    if (!this.ready) return undefined;
    const [row] = this.sql.exec<Row>(`SELECT workflow, instance_id, removal, status, created_at, updated_at, seq, owed FROM ${OUTBOX_TABLE} WHERE slot = 0`).toArray();
    if (!row) return undefined;
    return {
      workflow: row.workflow as string,
      instanceId: row.instance_id as string,
      removal: row.removal === 1,
      status: row.status as InstanceStatusName | null,
      createdAt: row.created_at as number | null,
      updatedAt: row.updated_at as number | null,
      seq: row.seq as number | null,
      owed: row.owed === 1,
    };
  }
}
