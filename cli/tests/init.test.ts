import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TEMPLATE_NAME } from "../commands/init";
import { main } from "../main";

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => readFileSync(path, "utf8");
const rootPackage = JSON.parse(read(join(root, "package.json")));

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "dm-init-"));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

async function init(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(["init", ...argv], { out: (t) => void (out += t), err: (t) => void (err += t), env: {}, cwd, columns: 120, now: Date.now });
  return { code, out, err };
}

/** Every file under `dir`, relative to it. */
function files(dir: string, under = ""): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, join(under, e.name)) : [join(under, e.name)]))
    .sort();
}

describe("init", () => {
  it("writes the project under its folder's name, with a fresh local token, and says what to do next", async () => {
    const run = await init("my-workflows");
    expect(run).toMatchObject({ code: 0, err: "" });
    const project = join(cwd, "my-workflows");
    const written = [".dev.vars", ".gitignore", "package.json", "src/env.d.ts", "src/index.ts", "test/workflows.test.ts", "tsconfig.json", "vitest.config.ts", "wrangler.toml"];
    expect(files(project)).toEqual(written);
    expect(run.out).toBe(
      [
        "Created my-workflows in my-workflows:",
        ...written.map((f) => `  ${f}`),
        "",
        "Next:",
        "  cd my-workflows",
        "  npm install",
        "  npm test                                  # both workflows, inside workerd",
        "  npm start                                 # the Worker on http://127.0.0.1:8787, the dashboard at /",
        "  npx durable-machines trigger greeting --params '{\"name\":\"Ada\"}'",
        "",
      ].join("\n"),
    );
    expect(JSON.parse(read(join(project, "package.json"))).name).toBe("my-workflows");
    expect(read(join(project, "wrangler.toml"))).toMatch(/^name = "my-workflows"\n/);
    for (const file of written) expect(read(join(project, file)), file).not.toContain(TEMPLATE_NAME);
    const token = /^API_TOKEN=([0-9a-f]{48})\n$/.exec(read(join(project, ".dev.vars")))?.[1];
    expect(token).toBeDefined();
    await init("second");
    expect(read(join(cwd, "second", ".dev.vars"))).not.toContain(token);
    expect(read(join(project, ".gitignore")).split("\n")).toEqual(expect.arrayContaining(["node_modules/", ".wrangler/", ".dev.vars"]));
  });

  it("refuses a folder that is not empty, writing nothing, and a name it cannot make a project name of", async () => {
    mkdirSync(join(cwd, "taken"));
    writeFileSync(join(cwd, "taken", "notes.txt"), "mine");
    const run = await init("taken");
    expect(run).toMatchObject({ code: 2, out: "" });
    expect(run.err).toMatch(/taken is not empty: init writes only into an empty or new folder, so that it overwrites nothing/);
    expect(readdirSync(join(cwd, "taken"))).toEqual(["notes.txt"]);
    expect(await init("x", "--name", "???")).toMatchObject({ code: 2, err: expect.stringMatching(/^Cannot make a project name of "\?\?\?"/) });
    expect(existsSync(join(cwd, "x"))).toBe(false);
  });

  it("writes into the current folder when it is empty, and makes a name wrangler and npm take", async () => {
    const here = join(cwd, "My Project!");
    mkdirSync(here);
    let out = "";
    expect(await main(["init"], { out: (t) => void (out += t), err: () => undefined, env: {}, cwd: here, columns: 80, now: Date.now })).toBe(0);
    expect(out).toMatch(/^Created my-project in \.:\n/);
    expect(out).not.toContain("  cd ");
    expect(JSON.parse(read(join(here, "package.json"))).name).toBe("my-project");
  });
});

describe("the template", () => {
  const template = join(root, "cli", "template");

  it("binds the two Durable Objects and migrates them to SQLite as the README says, at a date the installed workerd runs", () => {
    const readme = read(join(root, "README.md"));
    // The bindings and the migration of README's wrangler.toml ("Use it in your Worker"); its name and main are the example's own.
    const block = /```toml\n# wrangler\.toml\n[\s\S]*?(\[\[durable_objects\.bindings\]\][\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const config = read(join(template, "wrangler.toml"));
    expect(config).toContain(block);
    const date = /^compatibility_date = "(\d{4}-\d{2}-\d{2})"$/m.exec(config)?.[1];
    // wrangler's own workerd serves `wrangler dev`, the vitest plugin's (through its miniflare) the tests; a workerd
    // versioned 1.YYYYMMDD.n runs compatibility dates up to YYYY-MM-DD.
    const installed = [join(root, "node_modules", "wrangler", "node_modules", "workerd"), join(root, "node_modules", "workerd")].filter((dir) => existsSync(dir));
    expect(installed.length).toBeGreaterThan(0);
    for (const dir of installed) {
      const version = /^1\.(\d{4})(\d{2})(\d{2})\./.exec(JSON.parse(read(join(dir, "package.json"))).version);
      expect(date! <= `${version![1]}-${version![2]}-${version![3]}`, dir).toBe(true);
    }
  });

  it("asks for the versions this repository tests with", () => {
    const pkg = JSON.parse(read(join(template, "package.json")));
    expect(pkg.dependencies["durable-machines"]).toBe(`^${rootPackage.version}`);
    const installedXstate = JSON.parse(read(join(root, "node_modules", "xstate", "package.json"))).version;
    expect(pkg.dependencies.xstate).toBe(rootPackage.peerDependencies?.xstate ?? `^${installedXstate}`);
    for (const tool of ["wrangler", "@cloudflare/workers-types", "@cloudflare/vitest-plugin", "vitest", "typescript"]) {
      expect(pkg.devDependencies[tool], tool).toBe(rootPackage.devDependencies[tool]);
    }
    expect(pkg.engines.node).toBe(JSON.parse(read(join(root, "node_modules", "wrangler", "package.json"))).engines.node);
  });

  it("the bin starts with its shebang", () => {
    expect(read(join(root, "cli.ts")).startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it(
    "a scaffolded project passes its own test at once, in workerd, against this repository's source",
    async () => {
      expect((await init("fresh")).code).toBe(0);
      const project = join(cwd, "fresh");
      // The repository's packages stand in for `npm install`; durable-machines itself is this repository's source.
      mkdirSync(join(project, "node_modules"));
      for (const entry of readdirSync(join(root, "node_modules"))) {
        if (!entry.startsWith(".") || entry === ".bin") symlinkSync(join(root, "node_modules", entry), join(project, "node_modules", entry));
      }
      writeFileSync(
        join(project, "vitest.repo.config.ts"),
        [
          'import { mergeConfig } from "vitest/config";',
          'import config from "./vitest.config.ts";',
          "",
          `export default mergeConfig(config, { resolve: { alias: { "durable-machines/worker": ${JSON.stringify(join(root, "worker.ts"))}, "durable-machines": ${JSON.stringify(join(root, "index.ts"))} } } });`,
          "",
        ].join("\n"),
      );
      const run = await vitestIn(project, ["run", "--config", "vitest.repo.config.ts"]);
      expect(run.code, run.output).toBe(0);
      expect(run.output).toMatch(/Tests +2 passed \(2\)/);
    },
    180_000,
  );
});

/** Runs the repository's vitest in `dir` as a separate process, with none of this run's vitest variables. */
function vitestIn(dir: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "TEST" && name !== "NODE_ENV"));
  const child = spawn(process.execPath, [join(root, "node_modules", "vitest", "vitest.mjs"), ...args], {
    cwd: dir,
    env: { ...env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
