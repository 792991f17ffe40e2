import { bundleWorker, startWorker, type StartedWorker } from "../scripts/workerd.ts";

/**
 * The bench Worker in workerd through Miniflare's API (scripts/workerd.ts), with no proxy in front of it: `wrangler dev`
 * and `unstable_dev` put a second workerd and Node between a client and the Worker, which cost every request from the
 * Python worker about a millisecond and took a share of the machine's two cores. Production has no such hop.
 * Its bindings come from bench/wrangler.toml, its state from `<persistTo>/v3`, so a restart finds every instance of both engines.
 */
export type BenchWorker = StartedWorker;

export interface BenchWorkerOptions {
  root: string;
  persistTo: string;
  vars: Record<string, string>;
  /** Open workerd's inspector, for the memory and CPU profile figures; the timed runs go without it. */
  inspector?: boolean;
}

/** Bundles bench/worker.ts as wrangler would for workerd into a fresh folder. */
export const bundleBenchWorker = (root: string) => bundleWorker(root, "bench/worker.ts");

/** The cross-check Worker (bench/crosscheck/): Cloudflare's engine alone, bundled and started the same way. */
export const bundleCrosscheckWorker = (root: string) => bundleWorker(root, "bench/crosscheck/worker.ts");
export const startCrosscheckWorker = (scriptPath: string, options: BenchWorkerOptions): Promise<BenchWorker> => startWorker(scriptPath, { ...options, config: "bench/crosscheck/wrangler.toml" });

/** Starts workerd with the bundled bench Worker on a free loopback port and waits until it answers. */
export const startBenchWorker = (scriptPath: string, options: BenchWorkerOptions): Promise<BenchWorker> => startWorker(scriptPath, { ...options, config: "bench/wrangler.toml" });
