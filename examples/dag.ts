import { createManualClock, createMemoryHost, dagTasks, defineDag, NonRetryableError } from "durable-machines";

const pipeline = defineDag({
  name: "pipeline",
  tasks: dagTasks<{ source: string; partitions: number }>()
    .task("ingest", {
      run: (_, { params }) => {
        if (params.partitions > 8) throw new NonRetryableError("at most 8 partitions");
        return Array.from({ length: params.partitions }, (_, p) => ({ partition: p, rows: [`${params.source}/${p}/a`, `${params.source}/${p}/b`] }));
      },
    })
    // One durable step per batch, two at a time, each retried on its own; the results come back in input order.
    .map("transform", {
      over: "ingest",
      concurrency: 2,
      retries: { limit: 3, delay: "5 seconds", backoff: "exponential" },
      run: (batch, { stepId }) => ({ object: `part-${batch.partition}.jsonl`, rows: batch.rows.length, writeId: stepId }),
    })
    // `transform` is typed from the map above: a wrong name or field is a compile error.
    .task("join", { needs: ["transform"], run: ({ transform }) => ({ objects: transform.map((t) => t.object), rows: transform.reduce((n, t) => n + t.rows, 0) }) })
    .task("publish", { needs: ["join"], run: ({ join }, { params }) => `warehouse/${params.source}/_manifest.json (${join.objects.length} objects)` }),
  output: ({ join, publish }) => ({ ...join, manifest: publish }),
});

const host = createMemoryHost({ workflows: [pipeline], clock: createManualClock() });
const run = await host.workflow("pipeline").create({ id: "orders-1", params: { source: "orders", partitions: 3 } });
await host.idle();
console.log(await run.status()); // { status: "complete", output: { objects: ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"], rows: 6, manifest: "warehouse/orders/_manifest.json (3 objects)" }, value: { ingest: "done", … } }
console.log((await run.history()).flatMap((r) => (r.type === "step.succeeded" ? [r.data.key] : []))); // ["ingest#1", "transform.slot0#1", "transform.slot1#1", "transform.slot0#2", "join#1", "publish#1"]
