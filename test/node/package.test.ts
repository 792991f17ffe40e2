import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findNode20, installInto, ownPackage, packPackage, run, writeProject } from "./packed-package";

/**
 * The package as a user installs it: `npm pack` (which builds dist/), the
 * tarball installed into a fresh project in a scratch folder beside xstate,
 * @cloudflare/workers-types and typescript, then checked the ways a user
 * would meet it: tsc over a Worker that uses the main entry,
 * `durable-machines/worker` and `durable-machines/testing`, under a typical
 * Workers tsconfig and stricter ones; README's first example and a test
 * written with the testing helpers, run by plain Node 20 from compiled
 * JavaScript; the installed command; and the tarball's list of files. Then
 * the installed command's `init` makes a project, the tarball is installed
 * there, and the project's own test runs in workerd, its own tsc passes, and
 * so does a strict tsc after `wrangler types`.
 */

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** README's first code block under "## A workflow": the example a new user runs first. */
function readmeExample(): string {
  const section = readme.slice(readme.indexOf("\n## A workflow\n"));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README has no ```ts block under "## A workflow"');
  return block[1]!;
}

/** What README's example says `instance.status()` prints, from the comment on that line. */
function readmeStatus(example: string): unknown {
  const comment = /console\.log\(await instance\.status\(\)\); \/\/ (\{.*\})$/m.exec(example);
  if (!comment) throw new Error("README's example no longer prints instance.status() with the expected value in a comment");
  return new Function(`return (${comment[1]})`)();
}

/** A Worker as README's "Use it in your Worker" wires it: the two classes, a typed Env, the default export. */
const workerSource = `import { createWorkflows } from "durable-machines/worker";
import { order } from "./order.js";

const workflows = createWorkflows({ workflows: [order] });
export class WorkflowInstance extends workflows.WorkflowInstance {}
export class WorkflowRegistry extends workflows.WorkflowRegistry {}

export interface Env {
  WORKFLOW_INSTANCES: DurableObjectNamespace<WorkflowInstance>;
  WORKFLOW_REGISTRY: DurableObjectNamespace<WorkflowRegistry>;
  API_TOKEN: string;
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/checkout") {
      const instance = await workflows.client(env).workflow("order").create({ params: { orderId: "A-17" } });
      return Response.json({ id: instance.id, status: await instance.status() });
    }
    return workflows.fetch(request, env);
  },
} satisfies ExportedHandler<Env>;
`;

const orderSource = `import { setup } from "xstate";
import { defineWorkflow, step, type StepArgs } from "durable-machines";

const machine = setup({
  types: { input: {} as { orderId: string }, output: {} as { receipt: string } },
  actors: { charge: step(async ({ input, stepId }: StepArgs<{ orderId: string }>) => \`receipt for \${input.orderId} (\${stepId})\`) },
}).createMachine({
  id: "order",
  initial: "charging",
  context: ({ input }) => ({ orderId: input.orderId, receipt: "" }),
  states: {
    charging: { invoke: { src: "charge", input: ({ context }) => ({ orderId: context.orderId }), onDone: "done" } },
    done: { type: "final" },
  },
  output: ({ context }) => ({ receipt: context.receipt }),
});

export const order = defineWorkflow({ name: "order", machine, steps: { charge: { retries: { limit: 3, delay: "2 seconds" } } } });
`;

/** A user's test of the order workflow through `durable-machines/testing`, on the memory host: the step mocked, the result awaited. */
const testingSource = `import { createManualClock, createMemoryHost } from "durable-machines";
import { introspectWorkflowInstance } from "durable-machines/testing";
import { order } from "./order.js";

const host = createMemoryHost({ workflows: [order], clock: createManualClock() });
const introspector = await introspectWorkflowInstance(host, "order", "mocked-1");
await introspector.modify((m) => m.mockStepResult({ name: "charge" }, "a mocked receipt"));
await host.workflow("order").create({ id: "mocked-1", params: { orderId: "A-17" } });
const result: unknown = await introspector.waitForStepResult({ name: "charge" });
await introspector.waitForStatus("complete");
console.log("mocked step result:", JSON.stringify(result));
await introspector.dispose();
`;

/** `await using` on an introspector, for a project whose lib has `Symbol.asyncDispose` (ours must not need it). */
const awaitUsingSource = `import { createManualClock, createMemoryHost } from "durable-machines";
import { introspectWorkflowInstance } from "durable-machines/testing";
import { order } from "../src/order.js";

const host = createMemoryHost({ workflows: [order], clock: createManualClock() });
await using introspector = await introspectWorkflowInstance(host, "order", "disposed-1");
await introspector.modify((m) => m.disableRetryDelays());
`;

/** A typical Workers tsconfig (strict, bundler resolution, workers-types, ES2022) that reads our declarations too. */
const workersConfig = {
  compilerOptions: {
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "bundler",
    lib: ["ES2022"],
    types: ["@cloudflare/workers-types"],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  },
  include: ["src"],
};

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

let scratch: string;
let project: string;
let tarball: string;
let tarballPaths: string[];
let node20: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "durable-machines-package-"));
  project = join(scratch, "consumer");
  node20 = await findNode20();
  const own = ownPackage();
  const packed = await packPackage(join(scratch, "pack"));
  tarball = packed.tarball;
  tarballPaths = packed.paths;
  const example = readmeExample();
  writeProject(project, {
    "package.json": json({ name: "consumer", private: true, type: "module" }),
    "src/readme-example.ts": `${example}console.log("status as JSON:", JSON.stringify(await instance.status()));\n`,
    "src/order.ts": orderSource,
    "src/index.ts": workerSource,
    "src/order-testing.ts": testingSource,
    "esnext/await-using.ts": awaitUsingSource,
    "tsconfig.json": json(workersConfig),
    "tsconfig.esnext.json": json({ extends: "./tsconfig.json", compilerOptions: { lib: ["ESNext"] }, include: ["src", "esnext"] }),
    "tsconfig.exact.json": json({ extends: "./tsconfig.json", compilerOptions: { skipLibCheck: true, exactOptionalPropertyTypes: true } }),
    "tsconfig.node16.json": json({ extends: "./tsconfig.json", compilerOptions: { module: "node16", moduleResolution: "node16" } }),
    "tsconfig.emit.json": json({ extends: "./tsconfig.json", compilerOptions: { noEmit: false, rootDir: "src", outDir: "out", skipLibCheck: true }, include: ["src/readme-example.ts", "src/order-testing.ts"] }),
  });
  const installMs = await installInto(project, [
    tarball,
    `xstate@${own.devDependencies.xstate}`,
    `@cloudflare/workers-types@${own.devDependencies["@cloudflare/workers-types"]}`,
    `typescript@${own.devDependencies.typescript}`,
  ]);
  console.info(`package test: npm install of the tarball and its neighbours took ${Math.round(installMs)} ms`);
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const tsc = (config: string) => run(join(project, "node_modules", ".bin", "tsc"), ["-p", config], project);

describe("the packed package", () => {
  it("holds dist/, the init template, README.md, LICENSE and package.json, and no tests, bench results, e2e, CI files or screenshots", () => {
    const template = "package/cli/template/";
    const outside = tarballPaths.filter((path) => !["package/package.json", "package/README.md", "package/LICENSE"].includes(path) && !path.startsWith("package/dist/") && !path.startsWith(template));
    expect(outside).toEqual([]);
    // The template's own test is a file of the project `init` writes, not one of ours.
    const unwanted = tarballPaths.filter((path) => !path.startsWith(template) && /\.test\.|(^|\/)(test|tests|bench|e2e|\.ci|screenshots?)\/|\.(png|jpe?g|webp)$/.test(path));
    expect(unwanted).toEqual([]);
    for (const entry of ["index", "worker", "testing"]) {
      expect(tarballPaths).toContain(`package/dist/${entry}.js`);
      expect(tarballPaths).toContain(`package/dist/${entry}.d.ts`);
    }
    expect(tarballPaths).toContain("package/dist/cli.js");
    expect(tarballPaths).toContain(`${template}wrangler.toml`);
  });

  it("installs the durable-machines command, which runs", async () => {
    const ran = await run(join(project, "node_modules", ".bin", "durable-machines"), ["--help"], project);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toMatch(/^Usage: durable-machines /);
  });

  // No error at all, not only none in our files: a dependency's declarations that ours pull in are checked too.
  it("type-checks a Worker under a typical Workers tsconfig with skipLibCheck off: no error", async () => {
    const checked = await tsc("tsconfig.json");
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });

  it("type-checks with skipLibCheck and exactOptionalPropertyTypes: no error at all", async () => {
    const checked = await tsc("tsconfig.exact.json");
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });

  it("type-checks under moduleResolution node16, where every specifier in our declarations must name a file", async () => {
    const checked = await tsc("tsconfig.node16.json");
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });

  it("type-checks `await using` on an introspector where the lib is ESNext", async () => {
    const checked = await tsc("tsconfig.esnext.json");
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });

  it("runs README's first example on the memory host in plain Node 20, compiled to JavaScript, with no TypeScript loader", async () => {
    const compiled = await tsc("tsconfig.emit.json");
    expect(compiled.output).toBe("");
    const { NODE_OPTIONS: _loaders, ...env } = process.env;
    const ran = await run(node20, ["out/readme-example.js"], project, env);
    expect(ran.code).toBe(0);
    const printed = /^status as JSON: (.*)$/m.exec(ran.output);
    expect(printed, ran.output).not.toBeNull();
    expect(JSON.parse(printed![1]!)).toEqual(readmeStatus(readmeExample()));
  });

  it("runs a test written with durable-machines/testing in plain Node 20: the mocked step's result comes back", async () => {
    const compiled = await tsc("tsconfig.emit.json");
    expect(compiled.output).toBe("");
    const { NODE_OPTIONS: _loaders, ...env } = process.env;
    const ran = await run(node20, ["out/order-testing.js"], project, env);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain('mocked step result: "a mocked receipt"');
  });
});

/**
 * The dev tools a scaffolded project asks for, taken from this repository's node_modules instead of installed, which
 * keeps the test fast and offline. durable-machines and its runtime dependencies are not among them: those come
 * from the tarball.
 */
const linkedTools = ["wrangler", "workerd", "vitest", "@cloudflare/vitest-plugin", "@cloudflare/workers-types", "typescript"];
const repository = new URL("../..", import.meta.url).pathname;

/** The environment of a tool run in the scaffolded project: none of this vitest run's variables, no loaders, no metrics. */
function projectEnv(): NodeJS.ProcessEnv {
  const own = Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && !["TEST", "NODE_ENV", "NODE_OPTIONS"].includes(name));
  return { ...Object.fromEntries(own), WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" };
}

describe("a project made by the installed `durable-machines init`, with the tarball installed", () => {
  let app: string;
  // Node 22 (npm scripts put it first on the PATH): wrangler and workerd need it, as the template's engines say.
  const tool = (path: string, args: readonly string[]) => run(process.execPath, [join(app, "node_modules", path), ...args], app, projectEnv());

  beforeAll(async () => {
    const started = performance.now();
    // The package's engines say Node 20, so its command runs there.
    const made = await run(node20, [join(project, "node_modules", ".bin", "durable-machines"), "init", "app"], scratch, projectEnv());
    if (made.code !== 0) throw new Error(`durable-machines init failed (exit ${made.code}):\n${made.output}`);
    app = join(scratch, "app");
    // `npm install` would fetch the dev tools; they are linked below instead, so the install is only the tarball and xstate.
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    expect(Object.keys(manifest.devDependencies).sort()).toEqual(linkedTools.filter((name) => name !== "workerd").sort());
    delete manifest.devDependencies;
    writeFileSync(join(app, "package.json"), json(manifest));
    await installInto(app, [tarball]);
    mkdirSync(join(app, "node_modules", "@cloudflare"), { recursive: true });
    for (const name of linkedTools) symlinkSync(join(repository, "node_modules", name), join(app, "node_modules", name));
    console.info(`package test: init and the install of the tarball into the scaffolded project took ${Math.round(performance.now() - started)} ms`);
  }, 300_000);

  it("has durable-machines, xstate and the package's runtime dependencies installed in the project, not linked from this repository", () => {
    const installed = JSON.parse(readFileSync(join(app, "node_modules", "durable-machines", "package.json"), "utf8"));
    for (const name of ["durable-machines", "xstate", ...Object.keys(installed.dependencies)]) {
      const folder = join(app, "node_modules", name);
      expect(lstatSync(folder).isSymbolicLink(), name).toBe(false);
      expect(realpathSync(folder), name).toBe(join(realpathSync(app), "node_modules", name));
    }
    expect(existsSync(join(app, "node_modules", "durable-machines", "dist", "worker.js"))).toBe(true);
  });

  it("passes its own test, in workerd: a machine and a class run through the typed client and the HTTP API", async () => {
    const started = performance.now();
    const tested = await tool("vitest/vitest.mjs", ["run"]);
    console.info(`package test: the scaffolded project's own test took ${Math.round(performance.now() - started)} ms`);
    expect(tested.code, tested.output).toBe(0);
    expect(tested.output).toMatch(/Tests +2 passed \(2\)/);
  });

  it("passes its own tsc --noEmit", async () => {
    const checked = await tool("typescript/bin/tsc", ["--noEmit"]);
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });

  // wrangler types names the two classes as types (DurableObjectNamespace<import("./src/index").WorkflowInstance>) and
  // checks every export of the main module; skipLibCheck off, since the generated file is a declaration file.
  it("still type-checks with no error at all after `wrangler types`, its generated Env included and skipLibCheck off", async () => {
    const generated = await tool("wrangler/bin/wrangler.js", ["types", "--include-runtime=false"]);
    expect(generated.code, generated.output).toBe(0);
    writeProject(app, {
      "tsconfig.generated.json": json({ extends: "./tsconfig.json", compilerOptions: { types: ["@cloudflare/workers-types"], skipLibCheck: false }, include: ["src", "worker-configuration.d.ts"] }),
    });
    const checked = await tool("typescript/bin/tsc", ["-p", "tsconfig.generated.json"]);
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });
});
