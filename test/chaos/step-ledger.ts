import { DurableObject } from "cloudflare:workers";
import type { LedgerRow } from "./ledger-row";

/**
 * Where the chaos Worker's step bodies count themselves, outside the
 * instances' objects: each body, as it ends, adds one run under its
 * instance, step key and attempt. A kill can lose a run that was being
 * counted (the body then counts as not having ended), never invent one; the
 * suite compares these counts with the attempts each instance's log records.
 */
export class StepLedger extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS runs (instance TEXT NOT NULL, key TEXT NOT NULL, attempt INTEGER NOT NULL, outcome TEXT NOT NULL, runs INTEGER NOT NULL, PRIMARY KEY (instance, key, attempt, outcome))",
    );
  }

  async ran(instance: string, key: string, attempt: number, outcome: LedgerRow["outcome"]): Promise<void> {
    this.ctx.storage.sql.exec(
      "INSERT INTO runs (instance, key, attempt, outcome, runs) VALUES (?, ?, ?, ?, 1) ON CONFLICT (instance, key, attempt, outcome) DO UPDATE SET runs = runs + 1",
      instance,
      key,
      attempt,
      outcome,
    );
  }

  /** The rows in a stable order, `limit` at a time after the `offset`th. */
  async rows(offset: number, limit: number): Promise<LedgerRow[]> {
    return this.ctx.storage.sql
      .exec<{ instance: string; key: string; attempt: number; outcome: string; runs: number }>(
        "SELECT instance, key, attempt, outcome, runs FROM runs ORDER BY instance, key, attempt, outcome LIMIT ? OFFSET ?",
        limit,
        offset,
      )
      .toArray()
      .map((row) => ({ ...row, outcome: row.outcome as LedgerRow["outcome"] }));
  }
}
