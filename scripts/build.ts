/**
 * `npm run build`: the package as it ships, in dist/. tsc emits ESM
 * JavaScript and declarations, one file per source file (dependencies and
 * `cloudflare:workers` stay imports, as a library's should). Our sources
 * import each other without extensions (`from "./core/definition"`), which
 * bundlers resolve but plain Node and `moduleResolution: node16` do not, so
 * every relative specifier in dist/ is then rewritten to the file it names
 * (`./core/definition.js`, or `./x/index.js`); one that names no file stops
 * the build.
 *
 * The entries are what package.json's `exports` and `bin` name; each
 * `./dist/<name>.js` is built from `<name>.ts`. Two configs build them: the
 * library's entries against the Workers types (tsconfig.build.json), the CLI
 * against Node's (tsconfig.build-cli.json), since the two sets of globals
 * clash. Together their "files" must be exactly those sources, and each must
 * exist, or the build says which is missing instead of shipping an export
 * that points at nothing.
 *
 * The dashboard is built first (scripts/build-dashboard.ts): the Worker
 * entry embeds its page, script and stylesheet from the module it generates.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { buildDashboard } from "./build-dashboard.ts";

const root = resolve(import.meta.dirname, "..");
const dist = join(root, "dist");

interface PackageJson {
  exports: Record<string, { types: string; import: string }>;
  bin?: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson;
const buildConfigs = ["tsconfig.build.json", "tsconfig.build-cli.json"];
const listedBy = (config: string) => (JSON.parse(readFileSync(join(root, config), "utf8")) as { files: string[] }).files;

/** Every file package.json promises, each with the source it is built from and who promised it. */
const promised = [
  ...Object.entries(pkg.exports).flatMap(([name, target]) => [
    { file: target.import, by: `exports["${name}"].import` },
    { file: target.types, by: `exports["${name}"].types` },
  ]),
  ...Object.entries(pkg.bin ?? {}).map(([name, file]) => ({ file, by: `bin["${name}"]` })),
].map(({ file, by }) => {
  const match = /^\.\/dist\/([\w-]+)\.(js|d\.ts)$/.exec(file);
  if (!match) throw new Error(`package.json ${by} is "${file}": entries must be ./dist/<name>.js or ./dist/<name>.d.ts, built from <name>.ts at the root`);
  return { file, by, source: `${match[1]}.ts` };
});

const sources = [...new Set(promised.map((entry) => entry.source))].sort();
for (const { source, by } of promised) {
  if (!existsSync(join(root, source))) throw new Error(`package.json ${by} needs ${source}, which does not exist: write it, or take the entry out of package.json`);
}
const listed = buildConfigs.flatMap(listedBy).sort();
if (JSON.stringify(listed) !== JSON.stringify(sources)) {
  throw new Error(`the "files" of ${buildConfigs.join(" and ")} (${listed.join(", ")}) must be exactly the entries package.json names (${sources.join(", ")})`);
}

await buildDashboard();
rmSync(dist, { recursive: true, force: true });
for (const config of buildConfigs) execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", config], { cwd: root, stdio: "inherit" });

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** `from "…"`, `import "…"`, `import("…")` with a relative specifier, in emitted JavaScript and declarations. */
const relativeSpecifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"']*)\2/g;

function withExtension(file: string, specifier: string): string {
  const declaration = file.endsWith(".d.ts");
  const emitted = declaration ? ".d.ts" : ".js";
  const base = resolve(dirname(file), specifier);
  if (existsSync(base + emitted)) return `${specifier}.js`;
  if (existsSync(join(base, `index${emitted}`))) return `${specifier}/index.js`;
  throw new Error(`${relative(root, file)} imports "${specifier}", which names no file in dist/`);
}

for (const file of filesUnder(dist)) {
  if (!file.endsWith(".js") && !file.endsWith(".d.ts")) continue;
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(relativeSpecifier, (_whole, lead: string, quote: string, specifier: string) => `${lead}${quote}${withExtension(file, specifier)}${quote}`);
  if (rewritten !== text) writeFileSync(file, rewritten);
}

for (const { file, by } of promised) {
  if (!existsSync(join(root, file))) throw new Error(`package.json ${by} is "${file}", which the build did not produce`);
}
for (const [name, file] of Object.entries(pkg.bin ?? {})) {
  if (!readFileSync(join(root, file), "utf8").startsWith("#!/usr/bin/env node")) throw new Error(`bin "${name}" (${file}) must start with "#!/usr/bin/env node" so npx can run it`);
}
console.log(`built ${sources.join(", ")} into dist/`);
