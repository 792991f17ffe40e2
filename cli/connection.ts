import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CliIo } from "./io";

export const DEFAULT_URL = "http://127.0.0.1:8787";

export interface Connection {
  /** The Worker's origin; the API is under its /api. */
  url: string;
  token: string | undefined;
  /** Where the token came from, for the hint a 401 prints. */
  tokenFrom: string | undefined;
}

/**
 * The variables of a `.dev.vars` file (dotenv syntax, as wrangler reads it):
 * `KEY=value` lines, values optionally in single or double quotes, `#` comments.
 */
export function parseDevVars(text: string): Record<string, string> {
  // Keyed by what the file says: no prototype, so a `__proto__=` or `constructor=` line is a variable like any other.
  const vars: Record<string, string> = Object.create(null);
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2]!;
    else value = value.replace(/\s+#.*$/, "");
    vars[match[1]!] = value;
  }
  return vars;
}

function devVarsToken(cwd: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(cwd, ".dev.vars"), "utf8");
  } catch {
    return undefined;
  }
  return parseDevVars(text).API_TOKEN || undefined;
}

/**
 * Where to send requests and with which token: the flags first, then the
 * environment (DURABLE_MACHINES_URL; DURABLE_MACHINES_TOKEN, then API_TOKEN,
 * the Worker's own variable), then `.dev.vars` in the current folder, which
 * is where `wrangler dev` reads the local token from too.
 */
export function resolveConnection(flags: { url?: string | undefined; token?: string | undefined }, io: CliIo): Connection {
  const url = (flags.url ?? io.env.DURABLE_MACHINES_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  const candidates: [string | undefined, string][] = [
    [flags.token, "--token"],
    [io.env.DURABLE_MACHINES_TOKEN, "DURABLE_MACHINES_TOKEN"],
    [io.env.API_TOKEN, "API_TOKEN"],
  ];
  for (const [token, from] of candidates) if (token) return { url, token, tokenFrom: from };
  const local = devVarsToken(io.cwd);
  return { url, token: local, tokenFrom: local ? ".dev.vars" : undefined };
}
