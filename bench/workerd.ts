import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

/**
 * Starts the bench Worker in workerd through Miniflare's API, with no proxy in front of it: `wrangler dev` and
 * `unstable_dev` put a second workerd and Node between a client and the Worker, which cost every request from the
 * Python worker about a millisecond and took a share of the machine's two cores. Production has no such hop.
 *
 * The bindings come from bench/wrangler.toml through wrangler's own translation (unstable_getMiniflareWorkerOptions),
 * the code from bundling bench/worker.ts the way wrangler does, and the state lives under `<persistTo>/v3`, where
 * wrangler keeps it, so a restart over the same folder finds every instance of both engines.
 */

// wrangler's own copy of Miniflare (and so its workerd): the one whose options unstable_getMiniflareWorkerOptions builds.
const miniflare = createRequire(import.meta.resolve("wrangler"))("miniflare") as typeof import("miniflare");

export interface BenchWorker {
  /** Where the Worker listens on loopback, for Node and for the Python worker alike. */
  url: URL;
  fetch(path: string): Promise<Response>;
  stop(): Promise<void>;
}

export interface BenchWorkerOptions {
  root: string;
  persistTo: string;
  vars: Record<string, string>;
}

/** Bundles bench/worker.ts as wrangler would for workerd (one ES module, `cloudflare:*` left to the runtime) into a fresh folder. */
export async function bundleBenchWorker(root: string): Promise<{ scriptPath: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "dm-bench-bundle-"));
  const scriptPath = join(dir, "worker.js");
  // The options of wrangler's bundleWorker that matter here; NODE_ENV as `wrangler dev` sets it, so figures stay comparable.
  await build({
    entryPoints: [join(root, "bench/worker.ts")],
    outfile: scriptPath,
    absWorkingDir: root,
    bundle: true,
    format: "esm",
    target: "es2024",
    supported: { "import-source": true, using: true },
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    keepNames: true,
    define: { "process.env.NODE_ENV": '"development"', "global.process.env.NODE_ENV": '"development"', "globalThis.process.env.NODE_ENV": '"development"' },
    logLevel: "error",
  });
  return { scriptPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts workerd with the bundled Worker on a free loopback port and waits until it answers. */
export async function startBenchWorker(scriptPath: string, options: BenchWorkerOptions): Promise<BenchWorker> {
  const config = unstable_readConfig({ config: join(options.root, "bench/wrangler.toml") });
  // modulesRules say how to load files a script imports; the bundle imports none, and Miniflare's v5 options refuse them.
  const { modulesRules, ...workerOptions } = unstable_getMiniflareWorkerOptions(config).workerOptions;
  const mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      log: new miniflare.Log(miniflare.LogLevel.ERROR),
      // workerd's own errors to stderr, and nothing else, as unstable_dev's logLevel "error" did: stdout is the table.
      handleStructuredLogs: ({ level, message }) => {
        if (level === "error") console.error(message);
      },
      resourcePersistencePath: join(options.persistTo, "v3"),
      ...workerOptions,
      // The translated options are typed loosely (an Omit over an index signature); bindings are the toml's [vars].
      bindings: { ...(workerOptions.bindings as Record<string, string> | undefined), ...options.vars },
      // The name wrangler gives the Worker, which names its Durable Objects' folders under the persisted state.
      name: config.name,
      scriptPath,
      modules: true,
      modulesRoot: dirname(scriptPath),
    }),
  );
  const url = await mf.ready;
  return {
    url,
    fetch: (path) => fetch(new URL(path, url)),
    stop: () => mf.dispose(),
  };
}
