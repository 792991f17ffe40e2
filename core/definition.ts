import type { AnyStateMachine, AnyActorLogic } from "xstate";
import { InvalidDefinitionError, NonRetryableError, text } from "./errors";
import { hashString } from "./hash";
import { parseSchedules } from "./schedule";
import { toPolicy, type StepConfig, type StepPolicy } from "./retry";
import { get, has } from "./table";
import { freezesByDefault } from "./frozen-context";
import { defineCodeWorkflow, type CodeWorkflowDefinition, type CodeWorkflowOptions, type EntrypointTypes, type PythonWorkflowOptions } from "./code/definition";
import type { MachineTypes, UntypedWorkflow, WorkflowTypes } from "./workflow-types";
import type { WorkflowEntrypointClass } from "./code/types";

export interface WorkflowOptions<TMachine extends AnyStateMachine, TName extends string = string> {
  /** The name instances are created under; 1 to 64 letters, digits, "-" or "_". */
  name: TName;
  machine: TMachine;
  /** Change it when behaviour changes without the machine's shape changing; it is part of the pinned hash. */
  version?: string;
  /** Retry policy and timeout per step actor (by its name in `setup({ actors })`). */
  steps?: Record<string, StepConfig>;
  /** Cron expressions, as Cloudflare's `[[workflows]] schedules`: each firing creates an instance whose input is `{ schedule: { cron, scheduledTime } }`. */
  schedules?: string | readonly string[];
  /**
   * Deep-freeze machine contexts, so that a change made in place, outside assign() or assignDraft(), throws where it is
   * made instead of being lost on replay. On unless `process.env.NODE_ENV` is "production" (as `wrangler deploy` sets it).
   */
  freezeContext?: boolean;
}

/**
 * A machine workflow. `TName` and `TTypes` are for the typed client: the
 * name a host serves it under, and the params, events and output its client
 * takes and gives (the machine's input, events and output unless a builder
 * such as defineDag says otherwise).
 */
export interface WorkflowDefinition<TMachine extends AnyStateMachine = AnyStateMachine, TName extends string = string, TTypes extends WorkflowTypes = MachineTypes<TMachine>> {
  readonly kind: "machine";
  readonly name: TName;
  /** Phantom: carries TTypes for the typed client; never set. */
  readonly types?: TTypes;
  readonly machine: TMachine;
  readonly version: string;
  /** Pinned by every instance at creation; replay refuses a definition with another hash. */
  readonly hash: string;
  /** Cron expressions that create an instance when they fire; not part of the hash, since they never change a run. */
  readonly schedules: readonly string[];
  /** Whether its instances' contexts are deep-frozen (WorkflowOptions.freezeContext); not part of the hash, since a run that freezing lets finish ends the same unfrozen. */
  readonly freezeContext: boolean;
  policy(src: string): StepPolicy;
  /** The step body for an actor name, called with the attempt's context. */
  stepBody(src: string): StepBody;
  /** The actor that undoes a step, if its config names one. */
  compensator(src: string): string | undefined;
  /** The actor an invoke runs, by the invoke's id (the part of a step key before `#`). */
  actorOf(invokeId: string): string | undefined;
}

/**
 * What a step body is called with, and all it is called with: a step() body
 * and a fromPromise() body alike. XState's `emit`, `self` and `system`, which
 * fromPromise's types also offer, do not exist for a durable step; reading
 * one fails the step at once (see stepArgs).
 */
export interface StepArgs<TInput = unknown, TEnv = unknown> {
  input: TInput;
  /** The host's environment: the Worker's bindings and secrets on the Durable Object host. */
  env: TEnv;
  /** Stable across attempts and replays: use it to make outside calls idempotent. */
  stepId: string;
  /** 1 for the first try; grows with every retry and every re-run after a crash. */
  attempt: number;
  /** Aborted when the step times out, its state is left, or the instance ends. */
  signal: AbortSignal;
}

export type StepBody = (args: StepArgs) => unknown;

/** What fromPromise's types offer a body besides StepArgs, none of which a durable step has. */
const ACTOR_SCOPE = ["emit", "self", "system"] as const;

/**
 * The arguments a step body is called with: StepArgs and nothing else. A
 * step runs outside any actor (again after a crash, perhaps in another
 * process), so XState's `emit`, `self` and `system`, which fromPromise's types
 * offer, do not exist; reading one throws a NonRetryableError that says so
 * (hidden from keys, spreads and JSON), rather than leaving a TypeError to be
 * retried. No definition check can see these reads: a body is code, and
 * `self` is also a global in Workers.
 */
function stepArgs(args: StepArgs): StepArgs {
  const scoped = { ...args };
  for (const name of ACTOR_SCOPE) {
    Object.defineProperty(scoped, name, {
      enumerable: false,
      get() {
        throw new NonRetryableError(
          `XState's ${name} does not exist in a step body: a step runs outside any actor, and its body receives { input, env, stepId, attempt, signal } only. Return what the step produced; the machine receives it in onDone.`,
        );
      },
    });
  }
  return scoped;
}

type PromiseLikeLogic = AnyActorLogic & { config: StepBody };

/**
 * Promise actors are the only logic a step may be. XState gives them no
 * brand, and callback logic has the same shape, so this asks the logic what
 * a promise actor does with a resolved promise: finish with its value.
 * Transition logic (no `start`) is refused before any of its code runs.
 */
function isPromiseLogic(logic: unknown): logic is PromiseLikeLogic {
  const candidate = (logic ?? {}) as Partial<AnyActorLogic & { config: unknown; start: unknown }>;
  if (typeof candidate.config !== "function" || typeof candidate.start !== "function" || typeof candidate.transition !== "function") return false;
  const marker = {};
  try {
    const next = candidate.transition(
      { status: "active", output: undefined, error: undefined, input: undefined } as never,
      { type: "xstate.promise.resolve", data: marker } as never,
      { self: {} } as never,
    ) as { status?: string; output?: unknown };
    return next.status === "done" && next.output === marker;
  } catch {
    return false;
  }
}

const WORKFLOW_NAME = /^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}$/;

interface StateNodeLike {
  id: string;
  config: { invoke?: { src?: unknown } | { src?: unknown }[] };
  entry: unknown[];
  exit: unknown[];
  always?: { actions: unknown[]; toJSON(): unknown }[];
  transitions: Map<string, { actions: unknown[] }[]>;
  invoke: { id: string; src: string }[];
  after: { delay: unknown }[];
}

/** `machine.toJSON()` leaves eventless transitions out, so the pinned hash adds them: their targets, guards and actions. */
function eventlessTransitions(nodes: StateNodeLike[]): [string, unknown[]][] {
  return nodes.flatMap((node) => (node.always?.length ? [[node.id, node.always.map((transition) => transition.toJSON())]] : []));
}

function actionProblems(machine: AnyStateMachine, stateId: string, actions: unknown[]): string[] {
  const problems: string[] = [];
  for (const action of actions) {
    const resolved =
      typeof action === "string"
        ? get(machine.implementations.actions, action)
        : typeof action === "object" && action !== null && "type" in action
          ? (get(machine.implementations.actions, (action as { type: string }).type) ?? action)
          : action;
    if (typeof resolved !== "function") continue;
    const builtin = resolved as unknown as { type?: string; delay?: unknown; id?: unknown };
    if (builtin.type === "xstate.spawnChild") {
      problems.push(`state "${stateId}" spawns a child with spawnChild(); run steps with invoke so that they stop with their state.`);
    }
    if (builtin.type === "xstate.sendTo" && builtin.delay !== undefined) {
      problems.push(`state "${stateId}" sends a delayed event with sendTo(); use raise(event, { delay, id }) for durable timers.`);
    }
    if (builtin.type === "xstate.raise" && builtin.delay !== undefined && typeof builtin.id !== "string") {
      problems.push(`state "${stateId}" raises a delayed event without an id; give it one, raise(event, { delay, id: "..." }), so the timer survives replay.`);
    }
    if (builtin.type === "xstate.raise" && builtin.delay !== undefined) {
      problems.push(...delayProblems(machine, stateId, builtin.delay));
    }
  }
  return problems;
}

function delayProblems(machine: AnyStateMachine, stateId: string, delay: unknown): string[] {
  if (typeof delay === "number") return [];
  if (typeof delay === "string" && has(machine.implementations.delays ?? {}, delay)) return [];
  if (typeof delay === "string") return [`state "${stateId}" uses the delay "${delay}", which is not in setup({ delays }).`];
  return [`state "${stateId}" computes a delay inline; use a number or a delay named in setup({ delays }).`];
}

function stateProblems(machine: AnyStateMachine, node: StateNodeLike, stepNames: Set<string>): string[] {
  const problems: string[] = [];
  const configs = [node.config.invoke ?? []].flat();
  for (const [index, invoke] of node.invoke.entries()) {
    if (typeof configs[index]?.src !== "string") {
      // XState names an inline actor after the invoke's place ("xstate.invoke.0.<state>"), a name the user never wrote.
      problems.push(
        `state "${node.id}" invokes an actor written inline; move it into setup({ actors: { name: ... } }) and invoke it by that name (src: "name"): a step is found, configured in \`steps\` and recorded by the name of its actor.`,
      );
      continue;
    }
    const logic = get(machine.implementations.actors, invoke.src);
    if (!logic) {
      problems.push(`state "${node.id}" invokes "${invoke.src}", which is not in setup({ actors }).`);
    } else if (!isPromiseLogic(logic)) {
      problems.push(`state "${node.id}" invokes "${invoke.src}", which is not a promise actor; steps are fromPromise() or step() actors.`);
    }
    stepNames.add(invoke.src);
  }
  for (const type of node.transitions.keys()) {
    // XState's machine.toJSON(), which the pinned hash reads, gathers a state's events in a plain object and fails on these names.
    if (Object.hasOwn(Object.prototype, type)) problems.push(`state "${node.id}" takes the event "${type}", a name XState cannot serialize (it is a property of every object); use another event type.`);
  }
  for (const transition of node.after) problems.push(...delayProblems(machine, node.id, transition.delay));
  const actionLists = [node.entry, node.exit, ...(node.always ?? []).map((t) => t.actions)];
  for (const transitions of node.transitions.values()) actionLists.push(...transitions.map((t) => t.actions));
  for (const actions of actionLists) problems.push(...actionProblems(machine, node.id, actions));
  return problems;
}

/**
 * Declares a workflow. Everything replay cannot trust is refused here, at
 * definition time, with the state that holds it, rather than on some later
 * replay.
 */
export function defineWorkflow<const TName extends string, TEntrypoint extends WorkflowEntrypointClass>(
  options: CodeWorkflowOptions<TName, TEntrypoint>,
): CodeWorkflowDefinition<TName, EntrypointTypes<TEntrypoint>>;
export function defineWorkflow<const TName extends string>(options: PythonWorkflowOptions<TName>): CodeWorkflowDefinition<TName, UntypedWorkflow>;
export function defineWorkflow(options: CodeWorkflowOptions | PythonWorkflowOptions): CodeWorkflowDefinition;
export function defineWorkflow<TMachine extends AnyStateMachine, const TName extends string>(options: WorkflowOptions<TMachine, TName>): WorkflowDefinition<TMachine, TName>;
export function defineWorkflow<TMachine extends AnyStateMachine, TName extends string>(
  options: WorkflowOptions<TMachine, TName> | CodeWorkflowOptions | PythonWorkflowOptions,
): WorkflowDefinition<TMachine, TName> | CodeWorkflowDefinition {
  if ("entrypoint" in options || "python" in options) return defineCodeWorkflow(options);
  return defineMachineWorkflow(options);
}

/** Any workflow a host can serve: a machine, or a Cloudflare-style class. */
export type AnyWorkflowDefinition = WorkflowDefinition | CodeWorkflowDefinition;

function defineMachineWorkflow<TMachine extends AnyStateMachine, TName extends string>(options: WorkflowOptions<TMachine, TName>): WorkflowDefinition<TMachine, TName> {
  const { name, machine, version = "1", steps = {} } = options;
  if (typeof name !== "string" || !WORKFLOW_NAME.test(name)) {
    throw new InvalidDefinitionError(text(name), 'its name must be 1 to 64 letters, digits, "-" or "_".');
  }
  const schedules = parseSchedules(name, options.schedules);
  const nodes = [...(machine as unknown as { idMap: Map<string, StateNodeLike> }).idMap.values()];
  const stepNames = new Set<string>();
  // Without repeats: an `after` is checked as itself and again as the delayed raise XState compiles it into.
  const problems = [...new Set(nodes.flatMap((node) => stateProblems(machine, node, stepNames)))];
  const invoked = [...stepNames];
  const compensators = new Map<string, string>();
  for (const [src, config] of Object.entries(steps)) {
    if (config.compensate === undefined) continue;
    if (!isPromiseLogic(get(machine.implementations.actors, config.compensate))) {
      problems.push(`step "${src}" is compensated by "${config.compensate}", which is not a promise actor in setup({ actors }).`);
    }
    compensators.set(src, config.compensate);
    stepNames.add(config.compensate);
  }
  for (const src of Object.keys(steps)) {
    if (!stepNames.has(src)) problems.push(`steps names "${src}", but no state invokes an actor of that name (invoked: ${invoked.join(", ") || "none"}).`);
  }
  if (problems.length) throw new InvalidDefinitionError(name, problems.join(" "));

  const policies = new Map([...stepNames].map((src) => [src, toPolicy(src, get(steps, src))]));
  const actors = new Map(nodes.flatMap((node) => node.invoke.map((invoke) => [invoke.id, invoke.src] as const)));
  const hash = hashString(
    JSON.stringify({ version, machine: machine.toJSON(), always: eventlessTransitions(nodes), steps: [...policies], ...(compensators.size ? { compensators: [...compensators] } : {}) }),
  );

  return {
    kind: "machine",
    name,
    machine,
    version,
    hash,
    schedules,
    freezeContext: options.freezeContext ?? freezesByDefault(),
    policy: (src) => policies.get(src) ?? toPolicy(src),
    stepBody: (src) => {
      const body = (get(machine.implementations.actors, src) as PromiseLikeLogic).config;
      return (args) => body(stepArgs(args));
    },
    compensator: (src) => compensators.get(src),
    actorOf: (invokeId) => actors.get(invokeId),
  };
}
