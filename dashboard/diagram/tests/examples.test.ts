import { describe, expect, test } from "vitest";
import { definitionOf } from "../../../core/inspection";
import { InvalidDiagramInputError } from "../../../core/errors";
import { dataPipeline } from "../../../machines/data-pipeline";
import { groceryAgent } from "../../../machines/grocery-agent";
import { trainingLoop } from "../../../machines/training-loop";
import { dagDiagram, machineDiagram, readableDelay, type DagShape, type StateConfigJson } from "../index";
import { diagramArrows, expectSoundGeometry, occurrences, xstateArrows, xstatePaths } from "./checks";

const examples = [groceryAgent, trainingLoop, dataPipeline];

/** The named delays of a machine that are plain numbers, as a dashboard would be told them. */
const numericDelays = (def: (typeof examples)[number]) =>
  Object.fromEntries(Object.entries(def.machine.implementations.delays).filter((entry): entry is [string, number] => typeof entry[1] === "number"));

describe.each(examples.map((def) => [def.name, def] as const))("the statechart of %s", (_name, def) => {
  const config = JSON.parse(definitionOf(def)) as StateConfigJson;

  test("draws every state XState has, once, with its name as text", async () => {
    const { layout, svg } = await machineDiagram(config);
    const states = layout.nodes.filter((placed) => placed.node.kind !== "initial").map((placed) => placed.node.id.slice("state:".length));
    expect(states.sort()).toEqual(xstatePaths(def.machine).sort());
    for (const placed of layout.nodes.filter((p) => p.node.kind !== "initial" && p.node.kind !== "machine")) {
      expect(occurrences(svg, `data-path="${placed.node.path}"`)).toBe(1);
      expect(svg).toContain(`>${placed.node.label}</text>`);
    }
  });

  test("draws every transition XState resolved as an arrow between the same states, each kind labelled", async () => {
    const { layout, svg } = await machineDiagram(config, { delays: numericDelays(def) });
    expect(diagramArrows(layout)).toEqual(xstateArrows(def.machine));
    for (const placed of layout.edges) {
      if (placed.edge.kind === "initial") continue;
      expect(placed.label?.text).toBe(placed.edge.label);
      expect(placed.label!.text).toMatch({ on: /^[\w.*-]+/, after: /^after \d/, always: /^always/, done: /^done/, error: /^error: \w+/ }[placed.edge.kind as "on"]!);
      expect(svg).toContain(`>${placed.edge.label!.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}</text>`);
    }
  });

  test("nests child boxes inside their parents, keeps siblings apart, and fits the viewBox", async () => {
    expectSoundGeometry((await machineDiagram(config)).layout);
  });
});

test("an invoke's outcomes read done: and error: with the actor, and a named delay reads as its length", async () => {
  const { layout } = await machineDiagram(JSON.parse(definitionOf(groceryAgent)), { delays: numericDelays(groceryAgent) });
  const labels = layout.edges.map((e) => e.edge.label);
  expect(labels).toEqual(expect.arrayContaining(["done: compileList", "error: compileList", "error: placeOrder [refusedForGood]", "after 48 h", "delivered"]));
  expect(readableDelay(24 * 3_600_000)).toBe("24 h");
  expect(readableDelay(90_500)).toBe("1 min 30 s 500 ms");
});

test("the states a state value names are lit, and no others", async () => {
  const value = { transform: { running: { slot0: "finished", slot1: "working" } }, ingest: "done" };
  const { layout, svg } = await machineDiagram(JSON.parse(definitionOf(dataPipeline)), { value });
  const lit = ["transform", "transform.running", "transform.running.slot0", "transform.running.slot0.finished", "transform.running.slot1", "transform.running.slot1.working", "ingest", "ingest.done"];
  const drawnLit = [...svg.matchAll(/data-path="([^"]+)" data-active="true"/g)].map((m) => m[1]);
  expect(drawnLit.sort()).toEqual([dataPipeline.name, ...lit].sort());
  expect(layout.nodes.find((p) => p.node.path === "join.pending")).toBeDefined();
  expect(svg).toContain("Active states: transform, transform.running");
});

test("the SVG is one accessible image with a title, and every arrow has an arrowhead it defines", async () => {
  const { svg } = await machineDiagram(JSON.parse(definitionOf(trainingLoop)), { idPrefix: "tl" });
  expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="tl-title"/);
  expect(svg).toContain('<title id="tl-title">Statechart of training-loop</title>');
  expect(svg).toContain('<marker id="tl-arrow"');
  expect(svg).not.toContain("style=");
});

test("the data pipeline's DAG shape is drawn as its tasks and what each needs", async () => {
  const shape = (dataPipeline.machine.config.meta as { dag: DagShape }).dag;
  const { layout, svg } = await dagDiagram(shape, { name: dataPipeline.name, taskStates: { ingest: "done", transform: "running" } });
  expect(layout.nodes.map((p) => p.node.path).sort()).toEqual(shape.tasks.map((t) => t.name).sort());
  const arrows = layout.edges.map((e) => `${e.edge.source.slice(5)} → ${e.edge.target.slice(5)}`).sort();
  expect(arrows).toEqual(shape.tasks.flatMap((t) => [...new Set([...(t.over ? [t.over] : []), ...t.needs])].map((need) => `${need} → ${t.name}`)).sort());
  expect(svg).toMatch(/class="node task active running" data-id="task:transform"/);
  expect(svg).toMatch(/class="node task done" data-id="task:ingest"/);
  expectSoundGeometry(layout);
});

test("input that is no machine config, or a target that names no state, is refused with a typed error", async () => {
  await expect(machineDiagram("not a machine")).rejects.toBeInstanceOf(InvalidDiagramInputError);
  await expect(machineDiagram({ id: "m", initial: "a", states: { a: { on: { go: "nowhere" } } } })).rejects.toThrow(/"nowhere" names no state/);
  await expect(dagDiagram({ tasks: [{ name: "b", kind: "task", needs: ["a"] }] })).rejects.toThrow(/needs "a"/);
});
