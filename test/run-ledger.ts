import { DurableObject } from "cloudflare:workers";

/**
 * A place outside the instances that counts how often each step body ran,
 * and can hold a body until a test releases it. Counts are in SQLite, so
 * aborting or evicting an instance's object cannot reset them.
 */
export class RunLedger extends DurableObject {
  private readonly holds = new Map<string, (() => void)[]>();

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, count INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, text TEXT NOT NULL)");
  }

  /** Keeps a line of text under `key`, in order: what a handler saw, say. */
  async note(key: string, text: string): Promise<void> {
    this.ctx.storage.sql.exec("INSERT INTO notes (key, text) VALUES (?, ?)", key, text);
  }

  async notes(key: string): Promise<string[]> {
    return this.ctx.storage.sql.exec<{ text: string }>("SELECT text FROM notes WHERE key = ? ORDER BY seq", key).toArray().map((row) => row.text);
  }

  async ran(key: string): Promise<number> {
    return this.ctx.storage.sql.exec<{ count: number }>("INSERT INTO runs (key, count) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count", key).one().count;
  }

  async count(key: string): Promise<number> {
    return this.ctx.storage.sql.exec<{ count: number }>("SELECT count FROM runs WHERE key = ?", key).toArray()[0]?.count ?? 0;
  }

  /** Resolves when `release(key)` is called (at once if it already was). */
  async hold(key: string): Promise<void> {
    if (this.ctx.storage.sql.exec("SELECT 1 FROM runs WHERE key = ?", `released:${key}`).toArray().length) return;
    await new Promise<void>((resolve) => this.holds.set(key, [...(this.holds.get(key) ?? []), resolve]));
  }

  async release(key: string): Promise<void> {
    await this.ran(`released:${key}`);
    for (const resolve of this.holds.get(key) ?? []) resolve();
    this.holds.delete(key);
  }
}
