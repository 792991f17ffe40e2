import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "../command";
import { UsageError } from "../errors";

/** The project name the template's files carry, replaced by the new project's. */
export const TEMPLATE_NAME = "durable-machines-app";
/** The template's local API token, replaced by a fresh random one. */
const TEMPLATE_TOKEN = "local-dev-token";

/**
 * Files stored under another name, because npm leaves `.gitignore` out of a
 * published package, and a `.dev.vars` in the template would be ignored by
 * the repository's git as a user's own is.
 */
const RENAMED: Record<string, string> = { gitignore: ".gitignore", "dev.vars": ".dev.vars" };

/**
 * The template folder: beside this file in the source tree (cli/template), and
 * at the package's root when this file runs built, from dist/cli/commands/.
 */
export function templateDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "..", "template"), join(here, "..", "..", "..", "cli", "template")];
  const found = candidates.find((dir) => existsSync(join(dir, "wrangler.toml")));
  if (!found) throw new Error(`The init template is missing (looked in ${candidates.join(" and ")}): reinstall durable-machines.`);
  return found;
}

/** A name wrangler and npm both take: lower-case letters, digits and dashes. */
export function projectName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
}

function templateFiles(dir: string, under = ""): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((entry) => {
    const path = under ? `${under}/${entry.name}` : entry.name;
    if (entry.name === "node_modules" || entry.name.startsWith(".")) return [];
    return entry.isDirectory() ? templateFiles(dir, path) : [path];
  });
}

/** Writes the template into `target` for project `name`; returns the paths written, relative to `target`. */
export function scaffold(target: string, name: string, token: string): string[] {
  const source = templateDir();
  const written: string[] = [];
  for (const path of templateFiles(source)) {
    const parts = path.split("/");
    const last = parts.pop()!;
    const out = [...parts, RENAMED[last] ?? last].join("/");
    const text = readFileSync(join(source, path), "utf8").replaceAll(TEMPLATE_NAME, name).replaceAll(TEMPLATE_TOKEN, token);
    mkdirSync(dirname(join(target, out)), { recursive: true });
    writeFileSync(join(target, out), text, { flag: "wx" });
    written.push(out);
  }
  return written.sort();
}

export const init: Command = {
  name: "init",
  summary: "Creates a Worker project that uses durable-machines: a machine, a class, a test, the wrangler config.",
  details: [
    "Writes into [dir] (default: the current folder), which must be empty or not exist yet: package.json, wrangler.toml",
    "(the two Durable Object bindings and their SQLite migration), src/index.ts (a machine workflow and a",
    "Cloudflare-style class workflow), test/workflows.test.ts (vitest inside workerd), tsconfig.json, vitest.config.ts,",
    ".dev.vars (a fresh local API_TOKEN) and .gitignore.",
    "",
    "  npx durable-machines init my-workflows",
    "  cd my-workflows && npm install && npm test",
  ].join("\n"),
  positionals: [{ name: "dir", optional: true, description: "the folder to create the project in" }],
  options: { name: { type: "string", value: "NAME", description: "the project's name (default: the folder's name)" } },
  usesApi: false,
  async run({ args, options, io }) {
    const target = resolve(io.cwd, args.dir ?? ".");
    const name = projectName(typeof options.name === "string" ? options.name : basename(target));
    if (!name) throw new UsageError(`Cannot make a project name of ${JSON.stringify(options.name ?? basename(target))}: pass --name with letters or digits.`);
    if (existsSync(target) && readdirSync(target).length > 0) {
      throw new UsageError(`${target} is not empty: init writes only into an empty or new folder, so that it overwrites nothing. Pass a new folder: durable-machines init my-workflows`);
    }
    const written = scaffold(target, name, randomBytes(24).toString("hex"));
    const where = relative(io.cwd, target) || ".";
    io.out(
      [
        `Created ${name} in ${where}:`,
        ...written.map((path) => `  ${path}`),
        "",
        "Next:",
        ...(where === "." ? [] : [`  cd ${where}`]),
        "  npm install",
        "  npm test                                  # both workflows, inside workerd",
        "  npm start                                 # the Worker on http://127.0.0.1:8787, the dashboard at /",
        "  npx durable-machines trigger greeting --params '{\"name\":\"Ada\"}'",
        "",
      ].join("\n"),
    );
  },
};
