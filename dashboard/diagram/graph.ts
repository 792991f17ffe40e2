/**
 * What a diagram draws, before any layout: boxes nested as the states are,
 * and arrows between them. A machine and a DAG both become one of these, so
 * one layout and one renderer serve both.
 */

export type NodeKind = "machine" | "atomic" | "compound" | "parallel" | "final" | "history" | "initial" | "task";

/** How a transition is taken: by an event, a delay, no event, an invoked actor (or a child state) finishing or failing; or what a DAG task waits for. */
export type EdgeKind = "on" | "after" | "always" | "done" | "error" | "initial" | "needs" | "over";

export interface DiagramNode {
  /** Unique in the diagram; also the layout engine's id. */
  id: string;
  kind: NodeKind;
  /** The state's path as a state value names it ("a.b"), the machine's id for the root, the task's name for a DAG task. */
  path: string;
  /** Its title: the state's key, the task's name. */
  label: string;
  /** Lines under the title: what the state invokes, what kind a task is. */
  details: string[];
  /** A region of a parallel state, drawn dashed. */
  region: boolean;
  children: DiagramNode[];
}

export interface DiagramEdge {
  id: string;
  kind: EdgeKind;
  /** The transition this arrow belongs to: one transition with several targets is several arrows with one transition id. */
  transition: string;
  source: string;
  target: string;
  /** The arrow's text; undefined for the initial marker's arrow and a DAG's dependencies. */
  label: string | undefined;
}

export interface DiagramGraph {
  /** What the picture shows, for its accessible title. */
  title: string;
  /** A statechart is laid out downwards with orthogonal arrows; a DAG's task graph, which may have thousands of tasks, rightwards in layers, tuned for speed; a code-first run's steps (run-graph.ts) as a task graph, but downwards, as a run reads. */
  kind: "statechart" | "tasks" | "run";
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

/** Every node of the graph, parents before their children. */
export function allNodes(graph: { nodes: readonly DiagramNode[] }): DiagramNode[] {
  const out: DiagramNode[] = [];
  const visit = (node: DiagramNode) => {
    out.push(node);
    node.children.forEach(visit);
  };
  graph.nodes.forEach(visit);
  return out;
}
