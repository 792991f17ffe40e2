import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode, LayoutOptions } from "elkjs/lib/elk-api.js";
import { allNodes, type DiagramEdge, type DiagramGraph, type DiagramNode } from "./graph";
import { FONT_SIZE, textWidth } from "./text";

export interface Point {
  x: number;
  y: number;
}

export interface Box extends Point {
  width: number;
  height: number;
}

/** A node where the layout put it, in the diagram's coordinates (not its parent's). */
export interface PlacedNode extends Box {
  node: DiagramNode;
  /** The id of the node it is drawn inside, undefined at the top. */
  parent: string | undefined;
}

export interface PlacedEdge {
  edge: DiagramEdge;
  /** The arrow as a polyline, from its source's border to its target's. */
  points: Point[];
  label: (Box & { text: string }) | undefined;
}

export interface DiagramLayout {
  graph: DiagramGraph;
  /** Parents before their children, so drawing in this order puts children on top. */
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  /** Covers every node, arrow and label, with a margin: an SVG viewBox that clips nothing. */
  viewBox: Box;
}

export const LINE_HEIGHT = 16;
const PAD_X = 12;
const TITLE_HEIGHT = 28;
const MARGIN = 8;
const INITIAL_SIZE = 12;

/** The size of a box without children: its title and detail lines, padded. */
function leafSize(node: DiagramNode): { width: number; height: number } {
  if (node.kind === "initial") return { width: INITIAL_SIZE, height: INITIAL_SIZE };
  const widest = Math.max(textWidth(node.label), ...node.details.map(textWidth));
  return { width: Math.max(48, widest + 2 * PAD_X), height: TITLE_HEIGHT + node.details.length * LINE_HEIGHT };
}

/** Room at the top of a box with children for its title and details, so they never sit under a child. */
function paddingOf(node: DiagramNode): string {
  return `[top=${TITLE_HEIGHT + node.details.length * LINE_HEIGHT + 8},left=${PAD_X},bottom=${PAD_X},right=${PAD_X}]`;
}

/**
 * Options of the whole layout. A task graph's are chosen for 1,000 tasks:
 * ELK's default thoroughness and orthogonal routing take seconds there
 * (measured: 1.5 s against 0.45 s for 50 layers of 20 tasks), and straight
 * arrows between layers read as well as right angles.
 */
function rootOptions(graph: DiagramGraph): LayoutOptions {
  const common = {
    "elk.algorithm": "layered",
    "elk.hierarchyHandling": "INCLUDE_CHILDREN",
    "elk.edgeLabels.placement": "CENTER",
    "elk.spacing.nodeNode": "24",
    "elk.spacing.edgeLabel": "4",
    "elk.padding": "[top=0,left=0,bottom=0,right=0]",
  };
  if (graph.kind === "statechart") return { ...common, "elk.direction": "DOWN", "elk.edgeRouting": "ORTHOGONAL", "elk.layered.spacing.nodeNodeBetweenLayers": "36" };
  return {
    ...common,
    "elk.direction": graph.kind === "run" ? "DOWN" : "RIGHT",
    "elk.edgeRouting": "POLYLINE",
    "elk.layered.spacing.nodeNodeBetweenLayers": "48",
    "elk.layered.thoroughness": "1",
    "elk.layered.nodePlacement.strategy": "SIMPLE",
  };
}

/**
 * ELK counts an edge's coordinates from the node that contains it: the
 * lowest common ancestor of its ends, or the end that holds the other.
 * Edges are declared there; ELK reports the container it used back, which
 * placement reads.
 */
function containerOf(edge: DiagramEdge, parents: Map<string, string | undefined>): string | undefined {
  const ancestors = (id: string | undefined) => {
    const chain: (string | undefined)[] = [];
    for (let at = id; at !== undefined; at = parents.get(at)) chain.push(at);
    return chain;
  };
  if (edge.source === edge.target) return parents.get(edge.source);
  const fromSource = ancestors(edge.source);
  const fromTarget = new Set(ancestors(edge.target));
  return fromSource.find((id) => fromTarget.has(id));
}

const ROOT_ID = "diagram";

/** Lays a graph out with ELK's layered algorithm: nested boxes sized to hold their children, orthogonal arrows with their labels placed between layers. */
export async function layoutGraph(graph: DiagramGraph): Promise<DiagramLayout> {
  const parents = new Map<string, string | undefined>();
  const elkNodes = new Map<string | undefined, ElkNode>();
  const toElk = (node: DiagramNode, parent: string | undefined): ElkNode => {
    parents.set(node.id, parent);
    const elk: ElkNode = node.children.length
      ? { id: node.id, layoutOptions: { "elk.padding": paddingOf(node) }, children: node.children.map((child) => toElk(child, node.id)), edges: [] }
      : { id: node.id, ...leafSize(node), edges: [] };
    if (node.children.length) {
      // A box with children is at least as wide as its title.
      elk.layoutOptions!["elk.nodeSize.constraints"] = "MINIMUM_SIZE";
      elk.layoutOptions!["elk.nodeSize.minimum"] = `(${leafSize(node).width}, ${TITLE_HEIGHT})`;
    }
    elkNodes.set(node.id, elk);
    return elk;
  };
  const root: ElkNode = { id: ROOT_ID, layoutOptions: rootOptions(graph), children: graph.nodes.map((node) => toElk(node, undefined)), edges: [] };
  elkNodes.set(undefined, root);
  for (const edge of graph.edges) {
    const elkEdge: ElkExtendedEdge = {
      id: edge.id,
      sources: [edge.source],
      targets: [edge.target],
      ...(edge.label === undefined ? {} : { labels: [{ text: edge.label, width: textWidth(edge.label) + 8, height: FONT_SIZE + 4 }] }),
    };
    elkNodes.get(containerOf(edge, parents))!.edges!.push(elkEdge);
  }

  const laid = await elk().layout(root);

  const origin = new Map<string, Point>([[ROOT_ID, { x: 0, y: 0 }]]);
  const nodes: PlacedNode[] = [];
  const placedEdges: { elk: ElkExtendedEdge; declaredIn: string }[] = [];
  const byId = new Map(allNodes(graph).map((node) => [node.id, node]));
  const place = (elkNode: ElkNode, at: Point, parent: string | undefined) => {
    for (const edge of elkNode.edges ?? []) placedEdges.push({ elk: edge, declaredIn: elkNode.id });
    for (const child of elkNode.children ?? []) {
      const box = { x: at.x + (child.x ?? 0), y: at.y + (child.y ?? 0), width: child.width ?? 0, height: child.height ?? 0 };
      origin.set(child.id, box);
      nodes.push({ node: byId.get(child.id)!, ...box, parent });
      place(child, box, child.id);
    }
  };
  place(laid, { x: 0, y: 0 }, undefined);

  const edgesById = new Map(graph.edges.map((edge) => [edge.id, edge]));
  const edges: PlacedEdge[] = placedEdges.map(({ elk: edge, declaredIn }) => {
    const offset = origin.get(edge.container ?? declaredIn)!;
    const shift = (p: Point): Point => ({ x: offset.x + p.x, y: offset.y + p.y });
    const section = edge.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map(shift) : [];
    const label = edge.labels?.[0];
    return {
      edge: edgesById.get(edge.id)!,
      points,
      label: label ? { text: label.text ?? "", ...shift({ x: label.x ?? 0, y: label.y ?? 0 }), width: label.width ?? 0, height: label.height ?? 0 } : undefined,
    };
  });
  // In the graph's order, so the SVG reads in the order the config was written.
  const order = new Map(graph.edges.map((edge, n) => [edge.id, n]));
  edges.sort((a, b) => order.get(a.edge.id)! - order.get(b.edge.id)!);

  return { graph, nodes, edges, viewBox: bounds(nodes, edges) };
}

function bounds(nodes: readonly Box[], edges: readonly PlacedEdge[]): Box {
  const boxes: Box[] = [...nodes, ...edges.flatMap((edge) => [...edge.points.map((p) => ({ ...p, width: 0, height: 0 })), ...(edge.label ? [edge.label] : [])])];
  if (!boxes.length) return { x: 0, y: 0, width: 2 * MARGIN, height: 2 * MARGIN };
  const minX = Math.min(...boxes.map((b) => b.x));
  const minY = Math.min(...boxes.map((b) => b.y));
  const maxX = Math.max(...boxes.map((b) => b.x + b.width));
  const maxY = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: Math.floor(minX - MARGIN), y: Math.floor(minY - MARGIN), width: Math.ceil(maxX - minX + 2 * MARGIN), height: Math.ceil(maxY - minY + 2 * MARGIN) };
}

let engine: InstanceType<typeof ELK> | undefined;
/** One engine for every layout: the bundled build runs in the calling thread, no web worker, so it works alike in browsers, Node and workerd. */
function elk() {
  engine ??= new ELK();
  return engine;
}
