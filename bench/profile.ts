import type { CpuProfile } from "./inspector.ts";

/**
 * Where a run's time goes inside an isolate: a sampled CPU profile's self time, grouped by the source file each
 * function comes from. esbuild's bundle (not minified) opens each input file's code with a `// <path>` comment, so a
 * function's line in the bundle names its file; functions with no script are the runtime's own: SQLite's exec, JSON,
 * V8's builtins, and workerd's "(program)" (its own code between JavaScript: I/O, RPC, the event loop) and "(garbage
 * collector)".
 */

/** Where each input file's code starts in the bundle, in order. */
export function bundleFiles(source: string): { line: number; path: string }[] {
  const starts: { line: number; path: string }[] = [];
  source.split("\n").forEach((text, line) => {
    const match = /^\/\/ ((?:node_modules\/|\.\.\/)?[\w@./-]+\.(?:[cm]?[jt]s))$/.exec(text);
    if (match) starts.push({ line, path: match[1]! });
  });
  return starts;
}

/** The group a bundle file's time counts under: the package for dependencies, else the project's folder (core/code and core/dag apart). */
export function groupOf(path: string): string {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (dependency) return dependency[1]!;
  const parts = path.replace(/^(\.\.\/)+/, "").split("/");
  if (parts[0] === "core" && (parts[1] === "code" || parts[1] === "dag")) return `core/${parts[1]}`;
  if (parts[0] === "adapters") return `adapters/${parts[1]}`;
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.[cm]?[jt]s$/, "");
}

/**
 * Microseconds of self time per group, per bundle file and per function of the runtime's own, idle excluded; and the
 * SQL API's time by the project code that called it (the nearest caller outside bench/, whose wrapper counts rows).
 */
export interface ProfileSplit {
  busyUs: number;
  groups: Record<string, number>;
  files: Record<string, number>;
  natives: Record<string, number>;
  sqlCallers: Record<string, number>;
}

export function splitProfile(profile: CpuProfile, bundle: { url: string; files: { line: number; path: string }[] } | undefined): ProfileSplit {
  const self = new Map<number, number>();
  profile.samples.forEach((node, i) => self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  const groups: Record<string, number> = {};
  const files: Record<string, number> = {};
  const natives: Record<string, number> = {};
  const sqlCallers: Record<string, number> = {};
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const callerOf = (id: number): string => {
    for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
      const { functionName, url, lineNumber } = byId.get(up)!.callFrame;
      const file = bundle && url === bundle.url ? findFile(bundle.files, lineNumber) : undefined;
      if (file && !file.startsWith("bench/")) return `${file} ${functionName || "(anonymous)"}`;
    }
    return "(no project caller)";
  };
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (!us) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    busyUs += us;
    let group: string;
    if (bundle && url === bundle.url) {
      const file = findFile(bundle.files, lineNumber);
      group = file ? groupOf(file) : "bundle (before any file)";
      if (file) files[file] = (files[file] ?? 0) + us;
    } else if (url) group = `other script (${url.split("/").pop()})`;
    else {
      group = nativeGroup(functionName);
      natives[functionName || "(anonymous)"] = (natives[functionName || "(anonymous)"] ?? 0) + us;
      if (group === SQL_GROUP) {
        const caller = callerOf(node.id);
        sqlCallers[caller] = (sqlCallers[caller] ?? 0) + us;
      }
    }
    groups[group] = (groups[group] ?? 0) + us;
  }
  return { busyUs, groups, files, natives, sqlCallers };
}

function findFile(files: { line: number; path: string }[], line: number): string | undefined {
  let found: string | undefined;
  for (const file of files) {
    if (file.line > line) break;
    found = file.path;
  }
  return found;
}

const SQL_GROUP = "SQLite (the SQL API)";

function nativeGroup(name: string): string {
  if (name === "(program)" || name === "(garbage collector)" || name === "(root)") return `workerd ${name}`;
  if (name === "exec" || name === "next" || name === "toArray" || name === "one" || name === "raw") return SQL_GROUP;
  if (name === "stringify" || name === "parse") return "JSON";
  return "V8 builtins and runtime APIs";
}
