import { InvalidOperationError } from "../core/errors";
import { assertInstanceId } from "../core/ids";
import type { SubscribeOptions } from "../core/instance-events";
import type { LogRecord } from "../core/records";
import type { InstanceSubscription } from "./subscription";
import type { InstanceStatus, InstanceStatusName } from "../core/status";

export interface CreateOptions<TParams = unknown> {
  /** Defaults to a random UUID. */
  id?: string;
  params?: TParams;
}

export interface SendEventOptions {
  type: string;
  payload?: unknown;
  /** A second event with the same key is accepted and ignored. */
  idempotencyKey?: string;
}

/** One instance, as Cloudflare's WorkflowInstance shapes it, plus the log. */
export interface InstanceHandle {
  readonly id: string;
  status(): Promise<InstanceStatus>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** With `{ rollback: true }`, a code-first instance first runs the rollback handlers of its started steps, newest first. */
  terminate(options?: { rollback?: boolean }): Promise<void>;
  /**
   * From the start, or `from` a step: its key as history() shows it (`<invoke id>#<n>` for
   * machines, `do:<name>-<n>` for code-first), or Cloudflare's `{ name, count?, type? }`.
   */
  restart(options?: { from?: RestartFrom }): Promise<void>;
  sendEvent(event: SendEventOptions): Promise<void>;
  /** The log, oldest first: records with seq after `after`, at most `limit` (default 1000). */
  history(options?: { after?: number; limit?: number }): Promise<LogRecord[]>;
  /** Cloudflare's subscription: the log as its instance events, from `cursor`, live, until the run ends. */
  subscribe(options?: SubscribeOptions): Promise<InstanceSubscription>;
}

/** Cloudflare's way to name a step to restart from: its name, occurrence (default 1) and type (default "do"). */
export type RestartFrom = string | { name: string; count?: number; type?: "do" | "sleep" | "waitForEvent" };

/** The log key of a step named either way. */
export function restartKey(from: RestartFrom): string {
  if (typeof from === "string") return from;
  if (typeof from !== "object" || from === null || typeof from.name !== "string") {
    throw new InvalidOperationError("instance.cannot_restart", "restart({ from }) takes a step key, or { name, count?, type? }.");
  }
  return `${from.type ?? "do"}:${from.name}-${from.count ?? 1}`;
}

export interface BatchError {
  index: number;
  id?: string;
  code: string;
  message: string;
}

export interface InstanceSummary {
  id: string;
  status: InstanceStatusName;
  createdAt: number;
  /** When the instance last changed (its last record). */
  updatedAt: number;
}

export interface ListOptions {
  status?: InstanceStatusName;
  limit?: number;
  cursor?: string;
}

/** One workflow, as Cloudflare's Workflow binding shapes it, plus listing by status. */
export interface WorkflowClient<TParams = unknown> {
  create(options?: CreateOptions<TParams>): Promise<InstanceHandle>;
  /** Cloudflare's batch form: every instance is tried, and each refusal is reported with its index. */
  createBatch(batch: { instances: CreateOptions<TParams>[] }): Promise<{ created: InstanceHandle[]; errors: BatchError[] }>;
  get(id: string): Promise<InstanceHandle>;
  list(options?: ListOptions): Promise<{ instances: InstanceSummary[]; cursor?: string }>;
}

export const MAX_BATCH = 100;
export const DEFAULT_HISTORY_LIMIT = 1000;
export const MAX_LIST_LIMIT = 1000;

/** The id an instance is created under: the one given, checked, or a random UUID when none is. */
export function createdId(options: unknown): string {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOperationError("request.invalid", `Create options must be an object like { id?, params? }; got ${options === null ? "null" : typeof options}.`);
  }
  const { id } = options as { id?: unknown };
  const chosen = id === undefined ? crypto.randomUUID() : id;
  assertInstanceId(chosen);
  return chosen;
}
