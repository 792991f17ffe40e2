import { expect, test } from "vitest";
import { dagDiagram, type DagShape } from "../index";
import { expectSoundGeometry, inside, occurrences } from "./checks";

/** 1,000 tasks in 50 layers of 20, each needing two tasks of the layer before: the size of DAG the dashboard promises to draw unclipped. */
function layeredDag(layers: number, width: number): DagShape {
  const name = (layer: number, n: number) => `layer${layer}-task${n}`;
  const tasks = Array.from({ length: layers * width }, (_, i) => {
    const layer = Math.floor(i / width);
    const n = i % width;
    return { name: name(layer, n), kind: n % 7 === 0 ? "event" : "task", needs: layer ? [name(layer - 1, n), name(layer - 1, (n + 1) % width)] : [] };
  });
  return { tasks };
}

test("a 1,000-task DAG lays out with every task and arrow inside the viewBox", async () => {
  const shape = layeredDag(50, 20);
  const started = performance.now();
  const { layout, svg } = await dagDiagram(shape, { name: "big" });
  const elapsed = performance.now() - started;
  console.log(`1,000-task DAG (1,960 dependencies): laid out in ${Math.round(elapsed)} ms, viewBox ${layout.viewBox.width} × ${layout.viewBox.height}`);

  expect(layout.nodes).toHaveLength(1000);
  expect(layout.edges).toHaveLength(1960);
  for (const placed of layout.nodes) expect(inside(placed, layout.viewBox)).toBe(true);
  expectSoundGeometry(layout);
  const [x, y, width, height] = /viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg)!.slice(1).map(Number);
  expect({ x, y, width, height }).toEqual(layout.viewBox);
  for (const task of shape.tasks) expect(occurrences(svg, `data-path="${task.name}"`)).toBe(1);
  // Layered from left to right: every task starts right of all it needs.
  const at = new Map(layout.nodes.map((p) => [p.node.path, p]));
  for (const task of shape.tasks) for (const need of task.needs) expect(at.get(need)!.x + at.get(need)!.width).toBeLessThan(at.get(task.name)!.x);
});
