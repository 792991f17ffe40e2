import type { AnyMachineSnapshot } from "xstate";
import type { Json } from "./json";
import type { ErrorInfo, RecordBody } from "./records";

export type StepPhase = "ready" | "running" | "backoff" | "settled";

/** A step the machine has invoked and not yet settled: the host's truth about what runs. */
export interface StepEntry {
  /** `<invoke id>#<generation>`: the generation counts every start of that invoke in this instance. */
  key: string;
  invokeId: string;
  src: string;
  input: Json | undefined;
  /** Attempts started so far, crashes included. */
  attempt: number;
  /** Attempts that failed; retries are counted by these, so a crash costs no retry. */
  failures: number;
  phase: StepPhase;
  retryAt?: number;
  /** Set on a compensation: the key of the step it undoes. */
  compensates?: string;
}

export interface TimerEntry {
  /** `<send id>#<generation>`: a re-armed timer never answers to an old firing. */
  id: string;
  sendId: string;
  event: { type: string } & Record<string, Json>;
  dueAt: number;
}

export interface PendingEvent {
  type: string;
  payload?: Json;
}

export type Ending =
  | { status: "complete"; output?: Json }
  | { status: "errored"; error: ErrorInfo }
  | { status: "terminated" };

/** Everything besides the machine snapshot that folding the log rebuilds; plain JSON. */
export interface Book {
  workflow: string;
  instanceId: string;
  definitionHash: string;
  params: Json | undefined;
  createdAt: number;
  steps: Record<string, StepEntry>;
  timers: Record<string, TimerEntry>;
  stepGenerations: Record<string, number>;
  timerGenerations: Record<string, number>;
  /** Events no state accepted yet, delivered in arrival order as soon as one does. */
  inbox: PendingEvent[];
  /** Idempotency key -> seq of the event that used it. */
  idempotencyKeys: Record<string, number>;
  /** While paused, machine inputs wait here and are folded in order on resume. */
  paused: { at: number; deferred: RecordBody<"step.succeeded" | "step.failed" | "timer.fired" | "event.received">[] } | null;
  /** Started steps that have a compensating actor, oldest first, with what they took and gave. */
  compensable: { key: string; src: string; input?: Json; output?: Json }[];
  /** The saga under way: its trigger, the run's own ending, the steps still to undo (newest first). */
  rollback: { trigger: "error" | "terminate"; error: ErrorInfo; queue: string[]; failed?: ErrorInfo } | null;
  ended: Ending | null;
}

export interface InstanceState {
  /** seq and time of the last record folded. */
  seq: number;
  at: number;
  machine: AnyMachineSnapshot;
  book: Book;
}
