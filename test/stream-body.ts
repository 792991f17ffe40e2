import type { WorkflowEvent, WorkflowStep } from "../index";
import type { TestEnv } from "./workflows";

export interface StreamParams {
  /** How many bytes the step's stream yields, in chunks of 40 to 118 KB. */
  bytes?: number;
  /** The first run of the step holds in the ledger under `<instance>:download` after this many bytes. */
  holdAfter?: number;
  /** After reading the stream, run() waits for a "go" event. */
  wait?: boolean;
}

/** Byte i of every test stream: a pattern in which a row out of place changes the content. */
export const byteAt = (i: number) => i % 251;

async function summary(bytes: Uint8Array): Promise<{ bytes: number; sha256: string }> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return { bytes: bytes.byteLength, sha256: [...hash].map((b) => b.toString(16).padStart(2, "0")).join("") };
}

/** What run() reports of a stream: its length and SHA-256, as hex. */
export async function digest(stream: ReadableStream<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  return summary(new Uint8Array(await new Response(stream).arrayBuffer()));
}

/** The digest run() should report for a stream of `bytes` bytes. */
export const expectedDigest = (bytes: number) => summary(Uint8Array.from({ length: bytes }, (_, i) => byteAt(i)));

function patterned(total: number, holdAfter: number | undefined, hold: () => Promise<void>): ReadableStream<Uint8Array> {
  let sent = 0;
  let chunk = 0;
  let holding = holdAfter;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (holding !== undefined && sent >= holding) {
        holding = undefined;
        await hold();
      }
      if (sent >= total) return controller.close();
      const size = Math.min(total - sent, 40_000 + (chunk++ % 7) * 13_001);
      const from = sent;
      controller.enqueue(Uint8Array.from({ length: size }, (_, i) => byteAt(from + i)));
      sent += size;
    },
  });
}

/**
 * A step that returns a ReadableStream of bytes, read by run(): the body
 * runs as written on Cloudflare's engine and on ours. The step counts its
 * runs in the ledger, so a test sees whether a replay called it again.
 */
export async function streamedBody(event: WorkflowEvent<StreamParams>, step: WorkflowStep, env: TestEnv): Promise<unknown> {
  const ledger = env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
  const key = `${event.instanceId}:download`;
  const stream = await step.do("download", async () => {
    const run = await ledger.ran(key);
    return patterned(event.payload.bytes ?? 1000, run === 1 ? event.payload.holdAfter : undefined, () => ledger.hold(key));
  });
  const seen = await digest(stream);
  if (event.payload.wait) await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
  return seen;
}
