import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

/**
 * Starts a Worker in workerd through Miniflare's API, with no proxy in front of it: `wrangler dev` and `unstable_dev`
 * put a second workerd and Node between a client and the Worker, which cost every request about a millisecond and
 * took a share of the machine's two cores, and they offer no way to turn on Miniflare's own options (Cloudflare's
 * local explorer among them). The benchmark (bench/workerd.ts) and the e2e comparison with the explorer start theirs here.
 *
 * The bindings come from the Worker's wrangler.toml through wrangler's own translation (unstable_getMiniflareWorkerOptions),
 * the code from bundling its entry the way wrangler does, and the state lives under `<persistTo>/v3`, where wrangler
 * keeps it, so a restart over the same folder finds every instance of both engines.
 */

// wrangler's own copy of Miniflare (and so its workerd): the one whose options unstable_getMiniflareWorkerOptions builds.
const miniflare = createRequire(import.meta.resolve("wrangler"))("miniflare") as typeof import("miniflare");

export interface StartedWorker {
  /** Where the Worker listens on loopback. */
  url: URL;
  /** workerd's V8 inspector (a target per Worker, one isolate each), when asked for with `inspector`. */
  inspector?: URL;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  /** The repository's root: the config and entry paths are relative to it. */
  root: string;
  /** The Worker's wrangler.toml, relative to root. */
  config: string;
  persistTo: string;
  vars: Record<string, string>;
  /** Serve Cloudflare's local explorer at /cdn-cgi/local/explorer (what `X_LOCAL_EXPLORER=true wrangler dev` turns on). */
  localExplorer?: boolean;
  /** Open workerd's V8 inspector on a free loopback port (the benchmark reads heap sizes and CPU profiles through it). */
  inspector?: boolean;
}

/** Bundles a Worker's entry as wrangler would for workerd (one ES module, `cloudflare:*` left to the runtime) into a fresh folder. */
export async function bundleWorker(root: string, entry: string): Promise<{ scriptPath: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "dm-workerd-bundle-"));
  const scriptPath = join(dir, "worker.js");
  // The options of wrangler's bundleWorker that matter here; NODE_ENV as `wrangler dev` sets it, so figures stay comparable.
  await build({
    entryPoints: [join(root, entry)],
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
export async function startWorker(scriptPath: string, options: StartWorkerOptions): Promise<StartedWorker> {
  const config = unstable_readConfig({ config: join(options.root, options.config) });
  // modulesRules say how to load files a script imports; the bundle imports none, and Miniflare's v5 options refuse them.
  const { modulesRules, ...workerOptions } = unstable_getMiniflareWorkerOptions(config).workerOptions;
  const mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      log: new miniflare.Log(miniflare.LogLevel.ERROR),
      // workerd's own errors to stderr, and nothing else, as unstable_dev's logLevel "error" did: stdout is the caller's.
      handleStructuredLogs: ({ level, message }) => {
        if (level === "error") console.error(message);
      },
      resourcePersistencePath: join(options.persistTo, "v3"),
      unsafeLocalExplorer: options.localExplorer ?? false,
      ...(options.inspector ? { inspectorPort: 0 } : {}),
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
    ...(options.inspector ? { inspector: await mf.getInspectorURL() } : {}),
    fetch: (path, init) => fetch(new URL(path, url), init),
    stop: () => mf.dispose(),
  };
}
