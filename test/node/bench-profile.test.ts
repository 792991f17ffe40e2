import { describe, expect, it } from "vitest";
import type { CpuProfile } from "../../bench/inspector";
import { bundleFiles, groupOf, splitProfile } from "../../bench/profile";

/**
 * The bench's CPU profile split (bench/profile.ts): a sampled function's self time goes to the source file its line
 * falls in (esbuild's `// <path>` comments), the file to its group, and functions with no script to the runtime.
 */

const bundle = [
  'import { DurableObject } from "cloudflare:workers";',
  "",
  "// node_modules/xstate/dist/xstate.esm.js",
  "function transition() {}",
  "",
  "// core/code/decide.ts",
  "function decide() {}",
  "// core/fold.ts",
  "function fold() {}",
  "// runtime/step-runner.ts",
  "function run() {}",
  "// bench/worker.ts",
  "var worker_default = {};",
].join("\n");

/** One node per sample, each a child of the one `parent` names (by its index), as V8's call tree nests callees in callers. */
function profileOf(samples: { name: string; url?: string; line?: number; us: number; parent?: number }[]): CpuProfile {
  const nodes = samples.map((sample, i) => ({
    id: i + 1,
    callFrame: { functionName: sample.name, url: sample.url ?? "", lineNumber: sample.line ?? -1, columnNumber: 0 },
    children: samples.flatMap((other, j) => (other.parent === i ? [j + 1] : [])),
  }));
  // V8 gives each sample the time since the one before it, so a node's time is the delta that follows its sample.
  return { nodes, startTime: 0, endTime: 1, samples: nodes.map((node) => node.id), timeDeltas: [0, ...samples.map((sample) => sample.us)] };
}

describe("the bench's profile split", () => {
  it("finds where each input file starts in an esbuild bundle", () => {
    expect(bundleFiles(bundle)).toEqual([
      { line: 2, path: "node_modules/xstate/dist/xstate.esm.js" },
      { line: 5, path: "core/code/decide.ts" },
      { line: 7, path: "core/fold.ts" },
      { line: 9, path: "runtime/step-runner.ts" },
      { line: 11, path: "bench/worker.ts" },
    ]);
  });

  it("groups files by package, or by folder with the code-first kernel and the DAG apart", () => {
    expect(groupOf("node_modules/xstate/dist/xstate.esm.js")).toBe("xstate");
    expect(groupOf("node_modules/@hono/zod-openapi/dist/index.js")).toBe("@hono/zod-openapi");
    expect(groupOf("core/code/decide.ts")).toBe("core/code");
    expect(groupOf("core/dag/compile.ts")).toBe("core/dag");
    expect(groupOf("core/fold.ts")).toBe("core");
    expect(groupOf("adapters/durable-object/sql-store.ts")).toBe("adapters/durable-object");
    expect(groupOf("worker.ts")).toBe("worker");
  });

  it("sums self time per group and file, leaves idle out, names the runtime's own work, and gives SQL time to its caller", () => {
    const split = splitProfile(
      profileOf([
        { name: "transition", url: "worker.js", line: 3, us: 40 },
        { name: "decide", url: "worker.js", line: 6, us: 30 },
        { name: "fold", url: "worker.js", line: 8, us: 20 },
        { name: "decide", url: "worker.js", line: 6, us: 5 },
        { name: "exec", us: 15, parent: 9 },
        { name: "stringify", us: 7 },
        { name: "(garbage collector)", us: 11 },
        { name: "(idle)", us: 1000 },
        { name: "helper", url: "cloudflare:workers", line: 1, us: 2 },
        { name: "count", url: "worker.js", line: 12, us: 0, parent: 10 },
        { name: "append", url: "worker.js", line: 10, us: 0 },
        { name: "exec", us: 4, parent: 2 },
      ]),
      { url: "worker.js", files: bundleFiles(bundle) },
    );
    expect(split.busyUs).toBe(134);
    expect(split.groups).toEqual({ xstate: 40, "core/code": 35, core: 20, "SQLite (the SQL API)": 19, JSON: 7, "workerd (garbage collector)": 11, "other script (cloudflare:workers)": 2 });
    expect(split.files).toEqual({ "node_modules/xstate/dist/xstate.esm.js": 40, "core/code/decide.ts": 35, "core/fold.ts": 20 });
    expect(split.natives).toEqual({ exec: 19, stringify: 7, "(garbage collector)": 11 });
    // The SQL API's time goes to the nearest caller outside bench/ (the bench's wrapper that counts rows is passed over).
    expect(split.sqlCallers).toEqual({ "runtime/step-runner.ts append": 15, "core/fold.ts fold": 4 });
  });
});
