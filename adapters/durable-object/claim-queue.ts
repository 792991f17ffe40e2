import { systemClock } from "../../runtime/clock";
import { waitDeadline } from "../../runtime/python-workers";
import { Waiters } from "../../runtime/waiters";

/** What the workflow's registry object answers about its claim queue. */
export interface ClaimQueueStub {
  /** The instance wants a worker; asking again while it is queued keeps its place. */
  want(id: string): Promise<void>;
  /** The oldest instance that wants a worker, taken off the queue; waits up to `waitMs` for one, then null. */
  next(waitMs: number): Promise<string | null>;
}

/** The queue's table in the registry object's SQLite. */
export const CLAIM_QUEUE_TABLE = "claim_queue";

/**
 * The instances of one Python-served workflow that want a worker, oldest
 * first, in its registry object's SQLite so that an eviction of the registry
 * loses none. An instance asks to be queued each time it comes to want a
 * worker and again at each keep-alive ring while still unclaimed, so an
 * entry lost on the way (a failed call, a claim whose caller went away after
 * taking it) comes back within the keep-alive. An id can be queued and no
 * longer want a worker (claimed since, finished, deleted): the claim that
 * takes it asks the instance and goes on to the next.
 */
export class ClaimQueue {
  /** Claims waiting for an instance to want a worker, oldest first. */
  private readonly waiting = new Waiters(systemClock);

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ${CLAIM_QUEUE_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE)`);
  }

  want(id: string): void {
    this.sql.exec(`INSERT INTO ${CLAIM_QUEUE_TABLE} (id) VALUES (?) ON CONFLICT (id) DO NOTHING`, id);
    // One waiting claim per arrival: it takes the oldest entry, which is this one unless another claim came first.
    this.waiting.wakeOne();
  }

  async next(waitMs: number): Promise<string | undefined> {
    const deadline = waitDeadline(Date.now(), waitMs);
    for (;;) {
      const id = this.take();
      if (id !== undefined || Date.now() >= deadline) return id;
      await this.waiting.until(deadline);
    }
  }

  private take(): string | undefined {
    const [row] = this.sql.exec<{ id: string }>(`DELETE FROM ${CLAIM_QUEUE_TABLE} WHERE seq = (SELECT MIN(seq) FROM ${CLAIM_QUEUE_TABLE}) RETURNING id`).toArray();
    return row?.id;
  }
}
