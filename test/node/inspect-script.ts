import { spawn } from "node:child_process";
import { createServer } from "node:net";

const SCRIPT = new URL("../../scripts/inspect.ts", import.meta.url).pathname;

/** `npm run inspect` as a child process: what it has printed so far, and how it ended. */
export function runInspect(args: string[]) {
  // No browser is opened, and the token comes from the flags only.
  const child = spawn(process.execPath, [SCRIPT, ...args, "--no-open"], { env: { ...process.env, API_TOKEN: "" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on("close", (code) => resolve({ code, out, err })));
  /** Resolves once stdout holds `text`; fails if the relay exits first. */
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => out.includes(text) && (child.stdout.off("data", check), resolve());
      child.stdout.on("data", check);
      check();
      void exited.then(({ code, err }) => reject(new Error(`the relay exited (${code}) before printing ${JSON.stringify(text)}: ${err}`)));
    });
  return { output: () => out, printed, exited };
}

/** A port nothing listens on now: the kernel's pick, released. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
