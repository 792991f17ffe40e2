import type { LogRecord } from "../../core/records";
import type { InstanceStatusName } from "../../core/status";
import type { ChaosApi } from "./api";
import type { LedgerRow } from "./ledger-row";
import { instancePath, type Tracked } from "./workload";

/** Reading back what the run checks, over the HTTP API (and the chaos Worker's ledger route): every page, with deadlines on every wait. */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `work` over `items`, `size` at a time. */
export async function inPool<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    }),
  );
  return results;
}

/** Polls `check` until it answers nothing left to wait for, or the deadline passes; answers what was still missing then. */
export async function until<T>(deadlineMs: number, check: () => Promise<T[]>, pauseMs = 250): Promise<T[]> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const missing = await check();
    if (!missing.length || performance.now() > deadline) return missing;
    await sleep(pauseMs);
  }
}

/** An instance's whole log: history pages, following `next` until it is absent. */
export async function wholeLog(api: ChaosApi, instance: Tracked): Promise<LogRecord[]> {
  const log: LogRecord[] = [];
  let after = 0;
  for (;;) {
    const page = await api.read<{ records: LogRecord[]; next?: number }>(`${instancePath(instance)}/history?after=${after}`);
    log.push(...page.records);
    if (page.next === undefined || page.records.length === 0) return log;
    after = page.next;
  }
}

/** Every row of the step ledger. */
export async function ledgerRows(api: ChaosApi): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for (;;) {
    const page = await api.read<{ rows: LedgerRow[] }>(`/chaos/ledger?offset=${rows.length}&limit=1000`);
    rows.push(...page.rows);
    if (page.rows.length < 1000) return rows;
  }
}

/** The registry's list of a workflow, every page. */
export async function listAll(api: ChaosApi, workflow: string): Promise<{ id: string; status: InstanceStatusName }[]> {
  const listed: { id: string; status: InstanceStatusName }[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.read<{ instances: { id: string; status: InstanceStatusName }[]; cursor?: string }>(
      `/api/workflows/${workflow}/instances?limit=100${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    listed.push(...page.instances);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return listed;
}

/** The registry's counts of a workflow by status. */
export const counts = async (api: ChaosApi, workflow: string) => (await api.read<{ counts: Record<string, number> }>(`/api/workflows/${workflow}`)).counts;
