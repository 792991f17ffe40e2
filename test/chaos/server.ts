import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/**
 * `wrangler dev` for the chaos Worker, as a process group the run can kill
 * with SIGKILL and start again over the same persisted state. The group is
 * led by a small shell that also kills it when the run's own process is gone,
 * so a run that dies (or is killed) never leaves workerd behind. The Worker
 * is bundled once, before the first start, and every start serves that
 * bundle (`--no-bundle`): each restart comes back with the same code, and an
 * edit to the sources during a run neither reloads the server nor changes
 * what it runs.
 */

export const TOKEN = "chaos-token";
const root = new URL("../..", import.meta.url).pathname;
const WRANGLER = join(root, "node_modules/wrangler/bin/wrangler.js");
const CONFIG = join(root, "test/chaos/wrangler.toml");
const READY_DEADLINE_MS = 90_000;
const BUNDLE_DEADLINE_MS = 60_000;
/** No network here: without CLOUDFLARE_CF_FETCH_ENABLED=false each start tries to fetch Request.cf's data and warns. */
const childEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/** Runs the command in "$@" while the run's process ($1) lives; when either ends, the whole group goes. */
const WATCHDOG = `driver=$1; shift; "$@" & server=$!
while kill -0 "$driver" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
kill -9 0`;

/** Can we listen on `port` now? */
function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/**
 * A port nothing listens on, below the range the kernel hands out to
 * outgoing connections (the run's own requests open hundreds), so no
 * connection takes it between this check and wrangler binding it.
 */
async function freePort(): Promise<number> {
  let below = 32768;
  try {
    below = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || below;
  } catch {
    // Not Linux: take the usual bound.
  }
  for (let tries = 0; tries < 100; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if (await listenable(port)) return port;
  }
  throw new Error(`no free port found between 10000 and ${below}`);
}

/** The live (not zombie) processes of a group, by pid, with their command name (from /proc: Linux only, as CI is). */
function groupMembers(pgid: number): { pid: number; comm: string }[] {
  const members: { pid: number; comm: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so split after its last ")".
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") members.push({ pid: Number(entry), comm: stat.slice(stat.indexOf("(") + 1, close) });
  }
  return members;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export interface Started {
  /** Milliseconds from spawning wrangler to the API's first answer. */
  readyMs: number;
}

export interface Killed {
  /** The workerd processes killed first, by pid: the Worker's runtime and wrangler's proxy in front of it. */
  workerd: number[];
}

export class ChaosServer {
  private group: number | undefined;
  private base: string | undefined;
  private starts = 0;
  private script: string | undefined;
  /** Groups started and not yet killed, for the exit handler. */
  private readonly groups = new Set<number>();
  private readonly killed: number[] = [];

  constructor(
    private readonly persistTo: string,
    private readonly logDir: string,
    private readonly vars: Record<string, string> = {},
  ) {
    // Whatever ends the run (a failed assertion, an uncaught error, process.exit), the server goes with it.
    process.once("exit", () => this.groups.forEach(killGroup));
  }

  /** The API's origin while the server is up. */
  get url(): string {
    if (!this.base) throw new Error("the chaos server is not running");
    return this.base;
  }

  /** The log file of the current (or last) server process. */
  get logFile(): string {
    return join(this.logDir, `wrangler-${this.starts}.log`);
  }

  /** `wrangler deploy --dry-run`: the Worker as the one module every start serves. */
  private async bundle(): Promise<string> {
    const outdir = join(this.logDir, "bundle");
    const log = join(this.logDir, "bundle.log");
    const out = openSync(log, "w");
    const child = spawn(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir, "--config", CONFIG], { cwd: root, stdio: ["ignore", out, out], env: childEnv });
    closeSync(out);
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), BUNDLE_DEADLINE_MS);
      child.once("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    if (code !== 0) throw new Error(`bundling the chaos Worker failed (exit ${code}):\n${readFileSync(log, "utf8")}`);
    return join(outdir, "worker.js");
  }

  /** Starts wrangler dev on the persisted state and waits for the API's first answer; a port taken meanwhile by another process is tried again with others. */
  async start(): Promise<Started> {
    this.script ??= await this.bundle();
    const began = performance.now();
    for (let tries = 1; ; tries++) {
      const started = await this.launch(this.script);
      if (started === "address in use" && tries < 3) continue;
      if (started === "address in use") throw new Error(`wrangler dev found its port taken ${tries} times; its log: ${this.logFile}\n${this.tail()}`);
      return { readyMs: performance.now() - began };
    }
  }

  private async launch(script: string): Promise<"ready" | "address in use"> {
    const [port, inspectorPort] = [await freePort(), await freePort()];
    this.starts++;
    const log = openSync(this.logFile, "w");
    const args = [script, "--no-bundle", "--config", CONFIG, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
    args.push("--persist-to", this.persistTo, "--show-interactive-dev-session=false", "--log-level", "warn");
    for (const [name, value] of Object.entries(this.vars)) args.push("--var", `${name}:${value}`);
    const began = performance.now();
    const child = spawn("sh", ["-c", WATCHDOG, "chaos-watchdog", String(process.pid), process.execPath, WRANGLER, "dev", ...args], {
      cwd: root,
      detached: true,
      stdio: ["ignore", log, log],
      env: childEnv,
    });
    closeSync(log);
    let exited = false;
    child.once("exit", () => (exited = true));
    this.group = child.pid!;
    this.groups.add(this.group);
    this.base = `http://127.0.0.1:${port}`;
    const deadline = began + READY_DEADLINE_MS;
    for (;;) {
      if (exited) {
        this.kill();
        if (this.tail().includes("Address already in use")) return "address in use";
        throw new Error(`wrangler dev exited before answering; its log: ${this.logFile}\n${this.tail()}`);
      }
      if (performance.now() > deadline) throw new Error(`wrangler dev did not answer within ${READY_DEADLINE_MS / 1000} s; its log: ${this.logFile}\n${this.tail()}`);
      try {
        const response = await fetch(`${this.base}/api/workflows`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5_000) });
        await response.body?.cancel();
        if (response.ok) return "ready";
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** kill -9: every workerd of the group first, then the rest of it (wrangler, esbuild, the watchdog). */
  kill(): Killed {
    const group = this.group;
    this.group = undefined;
    this.base = undefined;
    if (group === undefined) return { workerd: [] };
    const workerd = groupMembers(group).filter((member) => member.comm === "workerd").map((member) => member.pid);
    for (const pid of workerd) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    killGroup(group);
    this.groups.delete(group);
    this.killed.push(group);
    return { workerd };
  }

  /** Waits (up to 10 s) until no process of the killed groups is left, so a restart never races the old one's files. */
  async gone(): Promise<void> {
    const deadline = performance.now() + 10_000;
    for (;;) {
      const left = this.killed.flatMap((group) => groupMembers(group));
      if (!left.length) return;
      if (performance.now() > deadline) throw new Error(`processes still alive after SIGKILL: ${left.map((m) => `${m.pid} ${m.comm}`).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private tail(): string {
    try {
      return readFileSync(this.logFile, "utf8").split("\n").slice(-40).join("\n");
    } catch {
      return "(no log)";
    }
  }
}
