import type { LogRecord } from "../../core/records";
import type { StoredSnapshot } from "../../core/snapshot";
import { recordBytes, type ChunkStore, type InstanceStore } from "../../runtime/store";

interface StoredInstance {
  workflow: string;
  id: string;
  records: LogRecord[];
  snapshots: StoredSnapshot[];
  /** Rows of streamed step outputs, by `<key>\0<attempt>`, in order. */
  chunks: Map<string, Uint8Array[]>;
}

/**
 * What survives a crash of the memory host: each instance's log,
 * snapshots and streamed step outputs. Records are kept as JSON text and
 * rows as copies, so nothing in memory can leak past a crash that a real
 * store would not keep.
 */
export class MemoryStorage {
  private readonly instances = new Map<string, StoredInstance>();

  private static key(workflow: string, id: string): string {
    return `${workflow}\u0000${id}`;
  }

  has(workflow: string, id: string): boolean {
    return this.instances.has(MemoryStorage.key(workflow, id));
  }

  ids(workflow: string): string[] {
    return [...this.instances.values()].filter((i) => i.workflow === workflow).map((i) => i.id);
  }

  all(): { workflow: string; id: string }[] {
    return [...this.instances.values()].map(({ workflow, id }) => ({ workflow, id }));
  }

  remove(workflow: string, id: string): void {
    this.instances.delete(MemoryStorage.key(workflow, id));
  }

  /** Every snapshot an instance has, oldest first. */
  snapshots(workflow: string, id: string): StoredSnapshot[] {
    return JSON.parse(JSON.stringify(this.instances.get(MemoryStorage.key(workflow, id))?.snapshots ?? [])) as StoredSnapshot[];
  }

  /** Drops every snapshot, as if none had ever been written. */
  dropSnapshots(): void {
    for (const instance of this.instances.values()) instance.snapshots = [];
  }

  store(workflow: string, id: string): InstanceStore {
    const key = MemoryStorage.key(workflow, id);
    const empty: StoredInstance = { workflow, id, records: [], snapshots: [], chunks: new Map() };
    /** Reading never creates an instance; the first write does. */
    const instance = (write = false): StoredInstance => {
      const found = this.instances.get(key);
      if (found || !write) return found ?? empty;
      this.instances.set(key, empty);
      return empty;
    };
    const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
    return {
      append(records) {
        const log = instance(true).records;
        for (const record of records) {
          if (record.seq !== log.length + 1) throw new Error(`Append out of order: seq ${record.seq} after ${log.length}.`);
          log.push(copy(record));
        }
      },
      read({ after = 0, before = Infinity, limit = Infinity, bytes = Infinity } = {}) {
        const page: LogRecord[] = [];
        let total = 0;
        for (const record of instance().records.slice(after, Math.min(before - 1, after + limit))) {
          total += recordBytes(JSON.stringify(record.data));
          if (page.length && total > bytes) break;
          page.push(copy(record));
        }
        return page;
      },
      firstStart(stepKey) {
        return instance().records.find((r) => r.type === "step.started" && r.data.key === stepKey)?.seq;
      },
      snapshot(before = Infinity) {
        const found = instance().snapshots.filter((s) => s.seq < before).at(-1);
        return found && copy(found);
      },
      saveSnapshot(state) {
        instance(true).snapshots.push(copy(state));
      },
      chunks: chunkStore(() => instance().chunks),
    };
  }
}

/** An instance's stream rows, each a copy of what was written or read. */
function chunkStore(rows: () => Map<string, Uint8Array[]>): ChunkStore {
  const slot = (key: string, attempt: number) => `${key}\u0000${attempt}`;
  return {
    write(key, attempt, index, bytes) {
      const output = rows().get(slot(key, attempt)) ?? [];
      output[index] = bytes.slice();
      rows().set(slot(key, attempt), output);
    },
    read(key, attempt, index) {
      return rows().get(slot(key, attempt))?.[index]?.slice();
    },
    drop(key, attempt) {
      rows().delete(slot(key, attempt));
    },
    keepOnly(outputs) {
      const kept = new Set(outputs.map(({ key, attempt }) => slot(key, attempt)));
      for (const name of [...rows().keys()]) if (!kept.has(name)) rows().delete(name);
    },
    bytes() {
      let total = 0;
      for (const output of rows().values()) for (const row of output) total += row.byteLength;
      return total;
    },
  };
}
