import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/**
 * The Python rows of `npm run bench`: a Python worker process (real CPython, the package in python/) serves the
 * bench Worker's `py-chain` over loopback. The bench Worker reads the times from the instances' own logs, so nothing
 * watches either side while they run.
 */

export const PYTHON_WORKER_TOKEN = "bench-worker-token";

/** Starts one Python worker for `py-chain` at the bench Worker's loopback URL, with the given capacity; its output goes to this process's stderr. */
export function startPythonWorker(root: string, workerUrl: URL, concurrency: number): ChildProcess {
  const venv = spawnSync("bash", [join(root, "scripts/python-env.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (venv.status !== 0) throw new Error("scripts/python-env.sh could not make the Python environment.");
  const python = join(venv.stdout.trim(), "bin/python");
  const url = workerUrl.origin;
  const child = spawn(python, ["-m", "durable_machines.worker", "--url", url, "--concurrency", String(concurrency), "bench.python_chain:PyChain=py-chain"], {
    cwd: root,
    env: { ...process.env, DURABLE_MACHINES_TOKEN: PYTHON_WORKER_TOKEN, PYTHON_WORKER_TOKEN },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return child;
}

export async function stopPythonWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
