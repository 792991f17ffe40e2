import type { Json } from "../core/json";
import type { ErrorInfo } from "../core/records";

/**
 * The Python worker protocol's messages and the engine's side of it, as every
 * host offers it (docs/python-protocol.md).
 */

/** A value on the wire: superjson's json and meta, the format the log stores values in (docs/python-protocol.md). */
export interface WireValue {
  json: Json;
  meta?: Json;
}

/**
 * The outcome of a step's first attempt, run by the worker before it sent the call (a live pass: see `CallsAnswer`),
 * with the occurrence count it gave the body's ctx.
 */
export type WireDone = { count: number; ok: true; value?: WireValue } | { count: number; ok: false; error: ErrorInfo; fatal?: { attempt: string; instance: string } };

export type WireCall =
  | { type: "step"; name: string; config?: Json; rollback?: { config?: Json }; done?: WireDone }
  | { type: "result"; key: string; attempt: number; ok: true; value?: WireValue }
  | { type: "result"; key: string; attempt: number; ok: false; error: ErrorInfo; delay?: { ms: number } | { error: ErrorInfo }; fatal?: { attempt: string; instance: string } }
  | { type: "sleep"; name: string; ms: number }
  | { type: "sleepUntil"; name: string; at: number }
  | { type: "wait"; name: string; eventType: string; timeoutMs?: number }
  | { type: "completed"; output?: WireValue }
  | { type: "failed"; error: ErrorInfo }
  | { type: "rollbackResult"; key: string; attempt: number; error?: ErrorInfo };

export interface WireAttempt {
  attempt: number;
  ctx: { step: { name: string; count: number }; attempt: number; config: Json };
  timeoutMs: number;
}

export type WireAnswer =
  | { key: string; value: WireValue | null }
  | { key: string; error: ErrorInfo }
  | { key: string; run: WireAttempt }
  | { key: string; pending: true }
  | { refused: ErrorInfo }
  | { stale: true }
  | { ok: true };

export type WireWork =
  | { type: "run"; key: string; attempt: WireAttempt }
  | { type: "rollback"; key: string; attempt: number; ctx: WireAttempt["ctx"]; error: ErrorInfo; output: WireValue | null; timeoutMs: number };

export interface WireTask {
  workflow: string;
  instanceId: string;
  lease: string;
  leaseMs: number;
  event: { payload: WireValue; timestamp: number; instanceId: string; workflowName: string };
}

/**
 * What the engine answers a worker's calls: one answer per call, then the work to do now, and whether the pass is over.
 * `live` says the pass has caught up with the log, so that a new step call starts its first attempt at once: the worker
 * may run such a body as it makes the call and send its outcome with it (`done`), one request and one commit for the
 * step. `steps` is how many more step calls the step limit allows in the pass.
 */
export interface CallsAnswer {
  answers: WireAnswer[];
  work: WireWork[];
  end: boolean;
  live?: { steps: number };
}

export interface HeartbeatAnswer {
  work: WireWork[];
  end: boolean;
  leaseMs: number;
}

export interface ReleaseAnswer {
  work: WireWork[];
  end: boolean;
}

/** The longest a claim or a heartbeat waits for something to answer. */
export const MAX_WAIT_MS = 25_000;

/** When a long poll asked to wait `waitMs` from `now` gives up: never before now, never past MAX_WAIT_MS or `cap`. */
export function waitDeadline(now: number, waitMs: number, cap = MAX_WAIT_MS): number {
  return now + Math.min(Math.max(0, waitMs), MAX_WAIT_MS, cap);
}

/** What a Python worker asks of the engine, per workflow served by Python. */
export interface PythonWorkers {
  /** An instance that wants a worker, under a new lease; waits up to `waitMs` for one, then none. */
  claim(worker: string, waitMs: number): Promise<WireTask | undefined>;
  /** The worker's calls, in order, each answered once its records are durable. A lease the engine fenced throws `lease.lost`. */
  calls(instanceId: string, lease: string, calls: readonly WireCall[]): Promise<CallsAnswer>;
  /** Renews the lease; waits up to `waitMs` (and never past half the lease) for work or the pass's end. */
  heartbeat(instanceId: string, lease: string, waitMs: number): Promise<HeartbeatAnswer>;
  /**
   * The worker lets the pass go: run() can only wait. Answers `end: true`, except where a saga the log has under way
   * (after a crash) waited for this replay to register its handlers: then the pass goes on with the rollback work.
   */
  release(instanceId: string, lease: string): Promise<ReleaseAnswer>;
}
