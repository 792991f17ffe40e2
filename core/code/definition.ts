import { InvalidDefinitionError, text } from "../errors";
import { hashString } from "../hash";
import { parseSchedules } from "../schedule";
import { DEFAULT_STEP_LIMIT, MAX_STEP_LIMIT } from "./config";
import type { ClientEvent, Declared, UntypedWorkflow, WorkflowTypes } from "../workflow-types";
import type { WorkflowEntrypointClass, WorkflowEvent } from "./types";

interface CommonOptions<TName extends string> {
  name: TName;
  /** Bump it when a change reorders or renames steps, so running instances keep the old class. */
  version?: string;
  /** `step.do` calls allowed per run, replayed ones included: Cloudflare's default is 10,000, and it can be raised to 25,000. */
  stepLimit?: number;
  /** Cron expressions, as Cloudflare's `[[workflows]] schedules`: each firing creates an instance whose `event.schedule` is `{ cron, scheduledTime }`. */
  schedules?: string | readonly string[];
}

export interface CodeWorkflowOptions<TName extends string = string, TEntrypoint extends WorkflowEntrypointClass = WorkflowEntrypointClass> extends CommonOptions<TName> {
  /** A class that extends WorkflowEntrypoint, written as for Cloudflare Workflows. */
  entrypoint: TEntrypoint;
}

/** A workflow whose run() is Python, run by worker processes that claim its instances (docs/python-protocol.md). */
export interface PythonWorkflowOptions<TName extends string = string> extends CommonOptions<TName> {
  python: {
    /** How long a worker holds an instance without a word before another may claim it; 30 s unless set. */
    leaseMs?: number;
  };
}

/**
 * A class's client types: the payload of run()'s event as params and what
 * run() resolves to as output. Its events are untyped, since each
 * waitForEvent() call names its own type.
 */
export type EntrypointTypes<TEntrypoint extends WorkflowEntrypointClass> =
  InstanceType<TEntrypoint> extends { run(event: infer TEvent, ...rest: never[]): Promise<infer TOutput> }
    ? WorkflowTypes<TEvent extends Readonly<WorkflowEvent<infer TParams>> ? Declared<TParams> : unknown, ClientEvent, Declared<TOutput>>
    : UntypedWorkflow;

/** A code-first workflow; `TName` and `TTypes` are for the typed client, as on a machine's WorkflowDefinition. */
export interface CodeWorkflowDefinition<TName extends string = string, TTypes extends WorkflowTypes = UntypedWorkflow> {
  readonly kind: "code";
  readonly name: TName;
  /** Phantom: carries TTypes for the typed client; never set. */
  readonly types?: TTypes;
  readonly version: string;
  readonly hash: string;
  /** The class whose run() runs in the object; absent when `python` serves the workflow. */
  readonly entrypoint?: WorkflowEntrypointClass;
  /** Set when Python worker processes run the workflow's run(). */
  readonly python?: { readonly leaseMs: number };
  readonly stepLimit: number;
  /** Cron expressions that create an instance when they fire. */
  readonly schedules: readonly string[];
}

const WORKFLOW_NAME = /^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}$/;

/**
 * A code-first workflow. Its pinned hash covers its name and version, not its
 * source: like Cloudflare, a deploy replays running instances with the new
 * code, and `version` is how to keep the old one for them.
 */
export function defineCodeWorkflow<TName extends string>(options: CodeWorkflowOptions<TName> | PythonWorkflowOptions<TName>): CodeWorkflowDefinition<TName> {
  const { name, version = "1", stepLimit = DEFAULT_STEP_LIMIT } = options;
  if (typeof name !== "string" || !WORKFLOW_NAME.test(name)) throw new InvalidDefinitionError(text(name), 'its name must be 1 to 64 letters, digits, "-" or "_".');
  const runner = "python" in options ? { python: pythonRunner(name, options.python) } : { entrypoint: inObjectRunner(name, options.entrypoint) };
  if (!Number.isInteger(stepLimit) || stepLimit < 1 || stepLimit > MAX_STEP_LIMIT) {
    throw new InvalidDefinitionError(name, `stepLimit must be a whole number from 1 to ${MAX_STEP_LIMIT.toLocaleString("en-US")} (Cloudflare's highest); got ${text(stepLimit)}.`);
  }
  const schedules = parseSchedules(name, options.schedules);
  return { kind: "code", name, version, hash: hashString(JSON.stringify({ kind: "code", name, version })), ...runner, stepLimit, schedules };
}

function inObjectRunner(name: string, entrypoint: unknown): WorkflowEntrypointClass {
  if (typeof entrypoint !== "function" || typeof entrypoint.prototype?.run !== "function") {
    throw new InvalidDefinitionError(name, "entrypoint must be a class that extends WorkflowEntrypoint and has a run(event, step) method.");
  }
  return entrypoint as WorkflowEntrypointClass;
}

const DEFAULT_LEASE_MS = 30_000;

function pythonRunner(name: string, python: unknown): { leaseMs: number } {
  if (typeof python !== "object" || python === null) throw new InvalidDefinitionError(name, "python must be an object, such as { leaseMs: 30000 }.");
  const { leaseMs = DEFAULT_LEASE_MS } = python as { leaseMs?: unknown };
  if (!Number.isInteger(leaseMs) || (leaseMs as number) < 1_000 || (leaseMs as number) > 600_000) {
    throw new InvalidDefinitionError(name, `python.leaseMs must be a whole number of milliseconds from 1,000 to 600,000; got ${text(leaseMs)}.`);
  }
  return { leaseMs: leaseMs as number };
}
