/**
 * When a code-first instance stores a snapshot of its fold. A code-first
 * state keeps every step's result, so it grows with the run: a snapshot
 * every `every` records would write the run's results again and again
 * (quadratic in the run's length). A snapshot is due once the records since
 * the last one reach `every` and half the log, so all the snapshots of a run
 * together hold at most about twice its results, and a load folds at most
 * half the log (or `every` records) after its snapshot. Recovery also replays
 * run(), which reads every result from memory; see docs/architecture.md.
 */
export function snapshotDue(recordsSince: number, seq: number, every: number): boolean {
  return recordsSince >= Math.max(every, Math.floor(seq / 2));
}
