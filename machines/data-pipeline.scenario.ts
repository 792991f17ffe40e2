/**
 * The data pipeline's scenario, shared by its tests on every host:
 * machines/data-pipeline.test.ts (memory host, Node), test/examples.test.ts
 * and test/examples-http.test.ts (inside workerd).
 */

export const ORDERS = { source: "orders", partitions: 3 };

/**
 * While partition 1's throttled write waits for its retry: partition 0 went
 * through slot 0, which then took partition 2; slot 1 holds partition 1.
 */
export const THROTTLED = { ingest: "done", transform: { running: { slot0: "finished", slot1: "working" } }, join: "pending", publish: "pending" };

/** The key of partition 1's transform: slot 1's first item. */
export const THROTTLED_KEY = "transform.slot1#1";

/** Every step that succeeded, with its attempt, in the order the log records them. */
export const ORDERS_SUCCEEDED = ["ingest#1@1", "transform.slot0#1@1", "transform.slot0#2@1", "transform.slot1#1@2", "join#1@1", "publish#1@1"];

/** What the output of the orders source split into 3 partitions must contain (its checksum aside). */
export const ORDERS_DONE = {
  source: "orders",
  summary: {
    partitions: 3,
    // Partition p holds 3 + p distinct records and one duplicate.
    records: 3 + 4 + 5,
    duplicatesDropped: 3,
    objects: ["warehouse/orders/part-0.jsonl", "warehouse/orders/part-1.jsonl", "warehouse/orders/part-2.jsonl"],
  },
  manifest: "warehouse/orders/_manifest.json",
};
