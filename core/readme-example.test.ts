import { expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";

/** The README's example is the first code a user runs: it is examples/quick-start.ts, type-checked, and it prints what it claims. */
it("the README's workflow example is examples/quick-start.ts, and it prints what the README says", async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const shown = /## A workflow\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(shown).toBe(readFileSync(new URL("../examples/quick-start.ts", import.meta.url), "utf8"));
  const printed: unknown[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((value: unknown) => void printed.push(value));
  await import("../examples/quick-start");
  log.mockRestore();
  expect(printed[0]).toEqual({ status: "complete", output: { receipt: "receipt for A-17 (0.order.charging#1)" }, value: "shipped" });
  expect((printed[1] as { type: string }[]).map((r) => r.type)).toEqual(["instance.created", "step.started", "step.succeeded", "timer.started", "event.received", "timer.cancelled", "instance.completed"]);
});

it("the README's DAG example is examples/dag.ts, and it prints what the README says", async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const shown = /### A DAG\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(shown).toBe(readFileSync(new URL("../examples/dag.ts", import.meta.url), "utf8"));
  const printed: unknown[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((value: unknown) => void printed.push(value));
  await import("../examples/dag");
  log.mockRestore();
  expect(printed[0]).toEqual({
    status: "complete",
    output: { objects: ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"], rows: 6, manifest: "warehouse/orders/_manifest.json (3 objects)" },
    value: { ingest: "done", transform: "done", join: "done", publish: "done" },
  });
  expect(printed[1]).toEqual(["ingest#1", "transform.slot0#1", "transform.slot1#1", "transform.slot0#2", "join#1", "publish#1"]);
});
