/**
 * Statecharts and task graphs as SVG text, laid out by ELK: pure (no DOM),
 * so it runs in Node, workerd and the browser alike, and a page inserts the
 * string and drives its viewBox to zoom and pan.
 */
import { dagGraph, type DagShape } from "./dag-graph";
import { layoutGraph, type DiagramLayout } from "./layout";
import { machineGraph, type MachineGraphOptions } from "./machine-graph";
import { renderSvg } from "./svg";

export type { DagShape } from "./dag-graph";
export type { DiagramEdge, DiagramGraph, DiagramNode, EdgeKind, NodeKind } from "./graph";
export type { Box, DiagramLayout, PlacedEdge, PlacedNode, Point } from "./layout";
export type { StateConfigJson } from "./machine-graph";
export { dagGraph } from "./dag-graph";
export { layoutGraph } from "./layout";
export { machineGraph } from "./machine-graph";
export { renderSvg } from "./svg";
export { runAsOf, runGraph, MAX_RUN_EDGES, MAX_RUN_STEPS, type RunGraph, type RunStep } from "./run-graph";
export { readableDelay } from "./text";

export interface Diagram {
  svg: string;
  layout: DiagramLayout;
}

/** A state value: a state's key, or an object of keys to the values of their children. */
export type StateValue = string | { [key: string]: StateValue };

export interface MachineDiagramOptions extends MachineGraphOptions {
  /** The machine's current state value; the states it names are lit. */
  value?: StateValue;
  /** Prefix of the ids inside the SVG, unique per diagram on a page. */
  idPrefix?: string;
}

/** The paths ("a", "a.b") of every state a state value names, parents before children. */
export function activePaths(value: StateValue, prefix: string[] = []): string[] {
  if (typeof value === "string") return [[...prefix, value].join(".")];
  return Object.entries(value).flatMap(([key, child]) => [[...prefix, key].join("."), ...activePaths(child, [...prefix, key])]);
}

/** A machine's statechart: `definition` is its config as JSON (JSON.parse of definitionOf's string, as the inspect socket sends it). */
export async function machineDiagram(definition: unknown, options: MachineDiagramOptions = {}): Promise<Diagram> {
  const layout = await layoutGraph(machineGraph(definition, options));
  const paths = options.value === undefined ? [] : activePaths(options.value);
  const active = new Set(options.value === undefined ? [] : ["state:", ...paths.map((path) => `state:${path}`)]);
  return {
    layout,
    svg: renderSvg(layout, { active, idPrefix: options.idPrefix ?? "statechart", description: paths.length ? `Active states: ${paths.join(", ")}.` : undefined }),
  };
}

export interface DagDiagramOptions {
  /** The DAG's name, for the title. */
  name?: string;
  /** Each task's state ("pending", "running", "done", "failed", "cancelled"…), a class on its box; running tasks are lit. */
  taskStates?: Record<string, string>;
  idPrefix?: string;
}

/** A DAG's task graph (its `meta.dag` shape) in layers, each task after those it needs. */
export async function dagDiagram(shape: DagShape, options: DagDiagramOptions = {}): Promise<Diagram> {
  const layout = await layoutGraph(dagGraph(shape, options.name));
  const states = Object.entries(options.taskStates ?? {});
  const running = states.filter(([, state]) => state === "running").map(([name]) => name);
  return {
    layout,
    svg: renderSvg(layout, {
      active: new Set(running.map((name) => `task:${name}`)),
      classes: new Map(states.map(([name, state]) => [`task:${name}`, state])),
      idPrefix: options.idPrefix ?? "dag",
      description: running.length ? `Running: ${running.join(", ")}.` : undefined,
    }),
  };
}
