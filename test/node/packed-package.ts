import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

/**
 * The package as a user gets it: packed by npm (prepack builds dist/) and
 * installed from the tarball into a project of its own in a scratch folder,
 * from the local npm cache when it holds what is needed. The package test
 * uses these; a test of the `init` template can make its project with
 * `writeProject` from the template's files and install the same tarball.
 */

const exec = promisify(execFile);
const repository = new URL("../..", import.meta.url).pathname;

export interface Ran {
  code: number;
  output: string;
}

/** Runs a command to its end; its exit code and its stdout and stderr together, never a throw for a failing exit. */
export async function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof failed.code === "number" ? failed.code : 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` || failed.message };
  }
}

async function mustRun(command: string, args: readonly string[], cwd: string): Promise<string> {
  const ran = await run(command, args, cwd);
  if (ran.code !== 0) throw new Error(`${command} ${args.join(" ")} failed in ${cwd} (exit ${ran.code}):\n${ran.output}`);
  return ran.output;
}

/** The repository's package.json, for the versions the consumer installs beside the tarball. */
export function ownPackage(): { name: string; version: string; peerDependencies: Record<string, string>; devDependencies: Record<string, string> } {
  return JSON.parse(readFileSync(join(repository, "package.json"), "utf8"));
}

/** `npm pack` of the repository into `folder`: the tarball's path and, as `tar tzf` lists them, the paths it holds. */
export async function packPackage(folder: string): Promise<{ tarball: string; paths: string[] }> {
  mkdirSync(folder, { recursive: true });
  await mustRun("npm", ["pack", "--pack-destination", folder], repository);
  const { name, version } = ownPackage();
  const tarball = join(folder, `${name}-${version}.tgz`);
  const paths = (await mustRun("tar", ["tzf", tarball], folder)).split("\n").filter(Boolean);
  return { tarball, paths };
}

/** Writes `files` (paths relative to `folder`) into a new project folder. */
export function writeProject(folder: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
  }
}

/** `npm install` of `specs` into the project, preferring the local cache; how long it took, in ms. */
export async function installInto(folder: string, specs: readonly string[]): Promise<number> {
  const started = performance.now();
  await mustRun("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...specs], folder);
  return performance.now() - started;
}

/**
 * A Node 20 binary. npm scripts put the node@22 dev dependency first on the
 * PATH (wrangler needs it), so the system's Node is looked for by its usual
 * paths and by each PATH entry, and asked its version.
 */
export async function findNode20(): Promise<string> {
  const candidates = [...(process.env.PATH ?? "").split(":").filter(Boolean).map((entry) => join(entry, "node")), "/usr/local/bin/node", "/usr/bin/node", "/bin/node"];
  for (const candidate of new Set(candidates)) {
    const ran = await run(candidate, ["--version"], repository);
    if (ran.code === 0 && ran.output.startsWith("v20.")) return candidate;
  }
  throw new Error(`no Node 20 found (tried ${[...new Set(candidates)].join(", ")}): the package promises engines.node >=20, so the test runs it there`);
}
