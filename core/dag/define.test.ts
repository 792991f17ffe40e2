import { describe, expect, it } from "vitest";
import { dagTasks, defineDag } from "../../index";

const shaped = (options: { needsA?: boolean; over?: "xs" | "ys"; maxConcurrency?: number; version?: string }) =>
  defineDag({
    name: "shaped",
    ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
    ...(options.version === undefined ? {} : { version: options.version }),
    tasks: dagTasks()
      .task("a", { run: () => 1 })
      .task("xs", { run: () => [1] })
      .task("ys", { needs: options.needsA ? ["a"] : [], run: () => [2] })
      .map("each", { over: options.over ?? "xs", needs: ["xs", "ys"], run: (n) => n }),
  }).hash;

describe("a DAG's pinned hash", () => {
  it("changes with the DAG's shape: what a task needs, what a map goes over, maxConcurrency, the version", () => {
    const base = shaped({});
    expect(shaped({})).toBe(base);
    expect(shaped({ needsA: true })).not.toBe(base);
    expect(shaped({ over: "ys" })).not.toBe(base);
    expect(shaped({ maxConcurrency: 2 })).not.toBe(base);
    expect(shaped({ maxConcurrency: 3 })).not.toBe(shaped({ maxConcurrency: 2 }));
    expect(shaped({ version: "2" })).not.toBe(base);
  });
});
