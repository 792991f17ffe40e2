/**
 * The data pipeline's scenario, shared by its tests on every host:
 * machines/data-pipeline.test.ts (memory host, Node), test/examples.test.ts
 * and test/examples-http.test.ts (inside workerd).
 */

/** What the output of the orders source split into 3 partitions must contain (its checksum aside). */
export const ORDERS_DONE = {
  source: "orders",
  outcome: "done",
  error: null,
  summary: {
    partitions: 3,
    // Partition p holds 3 + p distinct records and one duplicate.
    records: 3 + 4 + 5,
    duplicatesDropped: 3,
    objects: ["warehouse/orders/part-0.jsonl", "warehouse/orders/part-1.jsonl", "warehouse/orders/part-2.jsonl"],
  },
};
