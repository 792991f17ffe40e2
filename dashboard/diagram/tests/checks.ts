/**
 * What the diagram tests check against: XState's own reading of a machine
 * (its state nodes and resolved transitions), and the geometry of a layout.
 */
import { expect } from "vitest";
import type { AnyStateMachine } from "xstate";
import type { Box, DiagramLayout, PlacedNode } from "../index";

interface StateNodeLike {
  path: string[];
  states: Record<string, StateNodeLike>;
  transitions: Map<string, { target?: StateNodeLike[] }[]>;
  always?: { target?: StateNodeLike[] }[];
}

/** How a transition is taken, from the event XState files it under. */
function kindOfEvent(type: string): string {
  if (type.startsWith("xstate.after.")) return "after";
  if (type.startsWith("xstate.done.")) return "done";
  if (type.startsWith("xstate.error.actor.")) return "error";
  return "on";
}

function statesOf(node: StateNodeLike): StateNodeLike[] {
  return [node, ...Object.values(node.states).flatMap(statesOf)];
}

/** Every state's path ("" for the root), as XState has them. */
export function xstatePaths(machine: AnyStateMachine): string[] {
  return statesOf(machine.root as unknown as StateNodeLike).map((node) => node.path.join("."));
}

/** Every transition XState resolved, one "source → target (kind)" per target (a targetless one loops on its source), sorted. */
export function xstateArrows(machine: AnyStateMachine): string[] {
  return statesOf(machine.root as unknown as StateNodeLike)
    .flatMap((node) => [
      ...[...node.transitions].flatMap(([type, list]) => list.map((t) => ({ kind: kindOfEvent(type), t }))),
      ...(node.always ?? []).map((t) => ({ kind: "always", t })),
    ].flatMap(({ kind, t }) => (t.target?.length ? t.target : [node]).map((target) => `${node.path.join(".")} → ${target.path.join(".")} (${kind})`)))
    .sort();
}

const pathOfId = (id: string) => id.slice("state:".length);

/** The diagram's arrows in the same form, its initial markers left out. */
export function diagramArrows(layout: DiagramLayout): string[] {
  return layout.edges.filter((e) => e.edge.kind !== "initial").map((e) => `${pathOfId(e.edge.source)} → ${pathOfId(e.edge.target)} (${e.edge.kind})`).sort();
}

const EPSILON = 0.5;

export function inside(inner: Box, outer: Box): boolean {
  return inner.x >= outer.x - EPSILON && inner.y >= outer.y - EPSILON && inner.x + inner.width <= outer.x + outer.width + EPSILON && inner.y + inner.height <= outer.y + outer.height + EPSILON;
}

function overlap(a: Box, b: Box): boolean {
  return a.x + EPSILON < b.x + b.width && b.x + EPSILON < a.x + a.width && a.y + EPSILON < b.y + b.height && b.y + EPSILON < a.y + a.height;
}

/** Children lie inside their parents, siblings apart, and everything inside the viewBox. */
export function expectSoundGeometry(layout: DiagramLayout): void {
  const byId = new Map(layout.nodes.map((placed) => [placed.node.id, placed]));
  const siblings = new Map<string | undefined, PlacedNode[]>();
  for (const placed of layout.nodes) {
    expect(inside(placed, layout.viewBox), `${placed.node.id} inside the viewBox`).toBe(true);
    if (placed.parent !== undefined) expect(inside(placed, byId.get(placed.parent)!), `${placed.node.id} inside ${placed.parent}`).toBe(true);
    siblings.set(placed.parent, [...(siblings.get(placed.parent) ?? []), placed]);
  }
  for (const group of siblings.values()) {
    for (const [n, a] of group.entries()) for (const b of group.slice(n + 1)) expect(overlap(a, b), `${a.node.id} and ${b.node.id} overlap`).toBe(false);
  }
  for (const placed of layout.edges) {
    for (const point of placed.points) expect(inside({ ...point, width: 0, height: 0 }, layout.viewBox)).toBe(true);
    if (placed.label) expect(inside(placed.label, layout.viewBox)).toBe(true);
  }
}

/** How many times an SVG holds a string: a test of "exactly once". */
export function occurrences(svg: string, needle: string): number {
  return svg.split(needle).length - 1;
}
