import type { Json } from "../json";
import type { ErrorInfo } from "../records";
import type { StepPolicy } from "../retry";

/** A step call of the current pass of run() that the log has no result for yet. */
export interface StepCall {
  name: string;
  count: number;
  policy: StepPolicy;
  /** The retry delay is the answer of a function of the caller's, which the caller runs before it reports a failure. */
  delayFunction: boolean;
  /** What the step's first `step.started` keeps of its config (loggedConfig). */
  logged: { config?: Json };
  sensitive: boolean;
}

/** A rollback handler a step call registered, as data: the function stays with the caller. */
export interface HandlerCall {
  name: string;
  count: number;
  policy: StepPolicy;
  delayFunction: boolean;
  logged: { config?: Json };
}

/** The saga under way: the handlers to run, newest first, and the one running. */
export interface Saga {
  plan: string[];
  error: ErrorInfo;
  trigger: "error" | "terminate";
  running?: { key: string; attempt: number };
}

/**
 * What a code-first instance knows beyond its log: what the live pass of
 * run() has asked for. It is rebuilt by replaying run(), never stored, and
 * lost with the object. Tables are Maps: their keys come from step names.
 */
export interface CodeSession {
  /** Each replay of run() is a pass; a call from an older pass gets no answer. */
  pass: number;
  /** Occurrences of each `<kind>:<name>` in this pass: the `n` of a key `<kind>:<name>-<n>`. */
  counts: Map<string, number>;
  /** `step.do` calls made in this pass, for the step limit. */
  steps: number;
  calls: Map<string, StepCall>;
  handlers: Map<string, HandlerCall>;
  /** Attempts in flight, by key. */
  running: Map<string, number>;
  /** A pause asked for while attempts ran: the pass stops once none runs (Cloudflare's waitingForPause). */
  pausePending: boolean;
  saga: Saga | undefined;
  /**
   * The pass only reads the log: calls the log answers are answered, nothing new starts. A load starts one while
   * the instance is paused, so that the rollback handlers are known to a terminate that asks for them.
   */
  readOnly: boolean;
}

export function freshSession(pass = 0): CodeSession {
  return { pass, counts: new Map(), steps: 0, calls: new Map(), handlers: new Map(), running: new Map(), pausePending: false, saga: undefined, readOnly: false };
}
