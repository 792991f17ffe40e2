import { InvalidDiagramInputError } from "../../core/errors";
import type { DiagramEdge, DiagramGraph, DiagramNode, EdgeKind } from "./graph";
import { readableDelay } from "./text";

/**
 * A machine config as JSON: what `definitionOf` (core/inspection.ts) gives,
 * where guards, actions and actors written as functions have become
 * `{ type: <function name> }`.
 */
export interface StateConfigJson {
  id?: string;
  type?: string;
  initial?: string | { target?: string };
  states?: Record<string, StateConfigJson>;
  on?: Record<string, unknown>;
  after?: Record<string, unknown>;
  always?: unknown;
  invoke?: unknown;
  onDone?: unknown;
  /** At the root, definitionOf's lengths of the named delays (setup({ delays })): milliseconds, or "computed" for a function. */
  delays?: Record<string, unknown>;
}

export interface MachineGraphOptions {
  /** Named delays (setup({ delays })) in milliseconds or "computed", so `after: { deliveryWindow }` reads "after 24 h"; these win over the definition's own `delays`. */
  delays?: Record<string, number | "computed">;
}

interface TransitionJson {
  target?: string | string[];
  guard?: unknown;
}

/** One state while the graph is built: its config, its place, and its node. */
interface Placed {
  config: StateConfigJson;
  parent: Placed | undefined;
  path: string[];
  node: DiagramNode;
  children: Map<string, Placed>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The state kinds XState knows, from a config: the root is the machine; a parallel, final or history state says so; one with states is compound. */
function kindOf(config: StateConfigJson, root: boolean): DiagramNode["kind"] {
  if (root) return "machine";
  if (config.type === "parallel") return "parallel";
  if (config.type === "final") return "final";
  if (config.type === "history") return "history";
  return config.states && Object.keys(config.states).length ? "compound" : "atomic";
}

/** A guard's name: a string, `{ type }`, or a function as definitionOf writes it. */
function guardName(guard: unknown): string | undefined {
  if (typeof guard === "string") return guard;
  if (isObject(guard) && typeof guard.type === "string") return guard.type;
  return guard === undefined ? undefined : "guard";
}

/** A transition's configs, as XState reads them: a target, a config, or a list of either. */
function transitionsOf(value: unknown): TransitionJson[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => (typeof item === "string" ? { target: item } : isObject(item) ? (item as TransitionJson) : {}));
}

/** An invoked actor's name for labels: its `src` when that is a name, else its id. */
function actorName(invoke: Record<string, unknown>): string {
  if (typeof invoke.src === "string") return invoke.src;
  if (typeof invoke.id === "string") return invoke.id;
  return "actor";
}

function invokesOf(config: StateConfigJson): Record<string, unknown>[] {
  const list = config.invoke === undefined ? [] : Array.isArray(config.invoke) ? config.invoke : [config.invoke];
  return list.filter(isObject);
}

/**
 * The label an `after` key gets: a number of milliseconds, or a named delay
 * by its length when that is a number ("after 24 h"), by its name and
 * "computed" when a function gives it at run time, by its name alone when
 * nothing says.
 */
function delayLabel(key: string, delays: Record<string, unknown>): string {
  if (/^\d+(\.\d+)?$/.test(key)) return `after ${readableDelay(Number(key))}`;
  const known = Object.hasOwn(delays, key) ? delays[key] : undefined;
  if (typeof known === "number" && Number.isFinite(known)) return `after ${readableDelay(known)}`;
  return known === "computed" ? `after ${key} (computed)` : `after ${key}`;
}

const withGuard = (label: string, guard: unknown) => {
  const name = guardName(guard);
  return name ? `${label} [${name}]` : label;
};

/**
 * The states of a machine config as nested boxes, and every transition as
 * an arrow: `on` (the event), `after` (the delay), `always` (its guard),
 * an invoke's `onDone` and `onError` ("done: <actor>", "error: <actor>"),
 * a compound state's `onDone` ("done"), and each compound state's initial
 * marker. Targets resolve as XState resolves them (see resolveTarget).
 */
export function machineGraph(definition: unknown, options: MachineGraphOptions = {}): DiagramGraph {
  if (!isObject(definition)) throw new InvalidDiagramInputError(`a machine config is an object, and this is ${JSON.stringify(definition) ?? String(definition)}`);
  const config = definition as StateConfigJson;
  const delays = { ...(isObject(config.delays) ? config.delays : {}), ...options.delays };
  const machineId = typeof config.id === "string" ? config.id : "(machine)";
  const byId = new Map<string, Placed>();

  const place = (stateConfig: StateConfigJson, parent: Placed | undefined, key: string): Placed => {
    if (!isObject(stateConfig)) throw new InvalidDiagramInputError(`state "${[...(parent?.path ?? []), key].join(".")}" is not a state config`);
    const path = parent ? [...parent.path, key] : [];
    const kind = kindOf(stateConfig, !parent);
    const node: DiagramNode = {
      id: `state:${path.join(".")}`,
      kind,
      path: parent ? path.join(".") : machineId,
      label: parent ? key : machineId,
      details: invokesOf(stateConfig).map((invoke) => `invoke ${actorName(invoke)}`),
      region: parent?.config.type === "parallel",
      children: [],
    };
    const placed: Placed = { config: stateConfig, parent, path, node, children: new Map() };
    // XState's default id for a state is its path under the machine's id; an `id` in the config replaces it.
    byId.set(typeof stateConfig.id === "string" && parent ? stateConfig.id : [machineId, ...path].join("."), placed);
    for (const [childKey, child] of Object.entries(stateConfig.states ?? {})) {
      const childPlaced = place(child, placed, childKey);
      placed.children.set(childKey, childPlaced);
      node.children.push(childPlaced.node);
    }
    return placed;
  };
  const root = place(config, undefined, "");

  const descend = (from: Placed, keys: string[], target: string): Placed => {
    let here = from;
    for (const key of keys) {
      const next = here.children.get(key);
      if (!next) throw new InvalidDiagramInputError(`the target "${target}" names no state: "${here.path.join(".") || machineId}" has no child "${key}"`);
      here = next;
    }
    return here;
  };

  /** XState's resolveTarget: "#id.rest" by id, ".child" below the source, "sibling.child" beside it. */
  const resolveTarget = (source: Placed, target: string): Placed => {
    if (target.startsWith("#")) {
      const [id = "", ...rest] = target.slice(1).split(".");
      // The default ids hold dots, so try the longest id first.
      const parts = [id, ...rest];
      for (let cut = parts.length; cut > 0; cut--) {
        const found = byId.get(parts.slice(0, cut).join("."));
        if (found) return descend(found, parts.slice(cut), target);
      }
      throw new InvalidDiagramInputError(`the target "${target}" names no state id`);
    }
    if (target.startsWith(".")) return descend(source, target.slice(1).split("."), target);
    if (!source.parent) throw new InvalidDiagramInputError(`the target "${target}" of the machine's own transitions must start with "." or "#"`);
    return descend(source.parent, target.split("."), target);
  };

  const edges: DiagramEdge[] = [];
  let transitions = 0;
  const addTransition = (source: Placed, kind: EdgeKind, label: string, transition: TransitionJson) => {
    const id = `t${transitions++}`;
    const targets = transition.target === undefined ? [] : Array.isArray(transition.target) ? transition.target : [transition.target];
    // A transition without a target runs its actions and stays: a loop on its state.
    const resolved = targets.length ? targets.map((target) => resolveTarget(source, target)) : [source];
    resolved.forEach((target, n) => edges.push({ id: `${id}.${n}`, kind, transition: id, source: source.node.id, target: target.node.id, label: withGuard(label, transition.guard) }));
  };

  const connect = (placed: Placed) => {
    const { config: stateConfig, node } = placed;
    if (node.kind === "compound" || (node.kind === "machine" && stateConfig.type !== "parallel" && placed.children.size)) {
      const initial = typeof stateConfig.initial === "string" ? stateConfig.initial : stateConfig.initial?.target;
      if (initial !== undefined) {
        const marker: DiagramNode = { id: `initial:${placed.path.join(".")}`, kind: "initial", path: `${node.path}(initial)`, label: "", details: [], region: false, children: [] };
        node.children.unshift(marker);
        // An initial state is named from its parent: a child's key (or path), or an id.
        const target = initial.startsWith("#") ? resolveTarget(placed, initial) : descend(placed, initial.split("."), initial);
        edges.push({ id: `start:${placed.path.join(".")}`, kind: "initial", transition: marker.id, source: marker.id, target: target.node.id, label: undefined });
      }
    }
    for (const [event, value] of Object.entries(stateConfig.on ?? {})) for (const t of transitionsOf(value)) addTransition(placed, "on", event, t);
    for (const [delay, value] of Object.entries(stateConfig.after ?? {})) for (const t of transitionsOf(value)) addTransition(placed, "after", delayLabel(delay, delays), t);
    for (const t of transitionsOf(stateConfig.always)) addTransition(placed, "always", "always", t);
    for (const invoke of invokesOf(stateConfig)) {
      for (const t of transitionsOf(invoke.onDone)) addTransition(placed, "done", `done: ${actorName(invoke)}`, t);
      for (const t of transitionsOf(invoke.onError)) addTransition(placed, "error", `error: ${actorName(invoke)}`, t);
    }
    for (const t of transitionsOf(stateConfig.onDone)) addTransition(placed, "done", "done", t);
    placed.children.forEach(connect);
  };
  connect(root);

  return { title: `Statechart of ${machineId}`, kind: "statechart", nodes: [root.node], edges };
}
