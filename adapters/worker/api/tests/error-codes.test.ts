import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../error-codes";

const ROOT = new URL("../../../../", import.meta.url).pathname;
const SOURCES = ["core", "runtime", "adapters", "machines", "index.ts", "worker.ts"];

/** Every TypeScript source of the engine and its hosts, tests left out. */
function sources(path = ""): string[] {
  if (path === "") return SOURCES.flatMap((entry) => sources(entry));
  const full = join(ROOT, path);
  if (statSync(full).isDirectory()) return readdirSync(full).flatMap((entry) => sources(join(path, entry)));
  return path.endsWith(".ts") && !path.endsWith(".test.ts") && !path.includes("/tests/") ? [path] : [];
}

/**
 * The codes the code base gives errors: `new SomeError("code"`, `super("code"`
 * in an error class, `code: "code"` in an error body. (Step failures' codes,
 * `readonly code = "stream.…"` on plain Errors, are recorded in the log as a
 * step's error, never answered.)
 */
const THROWN = [/(?:Error|super)\(\s*"([a-z_]+\.[a-z_]+)"/g, /\bcode: "([a-z_]+\.[a-z_]+)"/g];

/** Codes sent as a message on the open inspection socket, after its 101: they have no HTTP status. */
const SOCKET_MESSAGE_CODES = new Set(["inspect.invalid_request"]);

function thrownCodes(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sources()) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const pattern of THROWN) for (const [, code] of text.matchAll(pattern)) if (!found.has(code!)) found.set(code!, file);
  }
  return found;
}

describe("the error table: one status for every code", () => {
  it("finds codes to check (the scan works)", () => {
    const thrown = thrownCodes();
    expect(thrown.get("instance.not_found")).toBe("core/errors.ts");
    expect(thrown.get("auth.invalid")).toBe("adapters/worker/api/auth.ts");
    expect(thrown.get("request.not_websocket")).toBeDefined();
    expect(thrown.size).toBeGreaterThan(30);
  });

  it("has a row for every code thrown anywhere in the code base", () => {
    const missing = [...thrownCodes()].filter(([code]) => !Object.hasOwn(ERROR_STATUS, code) && !SOCKET_MESSAGE_CODES.has(code)).map(([code, file]) => `${code} (${relative(ROOT, join(ROOT, file))})`);
    expect(missing).toEqual([]);
  });

  it("has no row for a code nothing uses: every code is named in some source besides the table", () => {
    const text = sources()
      .filter((file) => !file.endsWith("api/error-codes.ts"))
      .map((file) => readFileSync(join(ROOT, file), "utf8"))
      .join("\n");
    expect(Object.keys(ERROR_STATUS).filter((code) => !text.includes(`"${code}"`))).toEqual([]);
  });

  it("gives every code a 4xx or 5xx status", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(status >= 400 && status < 600, code).toBe(true);
  });

  it("is the README's error list: every code with its status, in the HTTP API section", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### HTTP API"), readme.indexOf("\n## ", readme.indexOf("### HTTP API")));
    const listed = new Map([...section.matchAll(/^\| `([a-z_]+(?:\.[a-z_]+)?)` \| (\d{3}) \|/gm)].map(([, code, status]) => [code!, Number(status)]));
    expect(Object.fromEntries(listed)).toEqual(ERROR_STATUS);
  });
});
