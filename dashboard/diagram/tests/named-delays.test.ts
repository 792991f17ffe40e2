import { expect, test } from "vitest";
import { setup } from "xstate";
import { definitionOf, namedDelays } from "../../../core/inspection";
import { defineWorkflow } from "../../../core/definition";
import { groceryAgent } from "../../../machines/grocery-agent";
import { machineDiagram, machineGraph } from "../index";

/** A machine whose `after` names delays of every kind setup({ delays }) takes: a number, a function, and a plain number of ms. */
const reminder = defineWorkflow({
  name: "reminder",
  machine: setup({
    types: { context: {} as { hours: number } },
    delays: { grace: 90_000, backoff: ({ context }) => context.hours * 3_600_000 },
  }).createMachine({
    id: "reminder",
    context: { hours: 2 },
    initial: "waiting",
    states: {
      waiting: { after: { grace: "nudged", 500: "waiting" } },
      nudged: { after: { backoff: "closed" } },
      closed: { type: "final" },
    },
  }),
});

const afterLabels = (definition: unknown) =>
  machineGraph(definition)
    .edges.filter((edge) => edge.kind === "after")
    .map((edge) => edge.label)
    .sort();

test("the definition the inspector and dashboard get carries each named delay's length, or says a function computes it", () => {
  const definition = JSON.parse(definitionOf(reminder)) as { delays?: unknown };
  expect(definition.delays).toEqual({ grace: 90_000, backoff: "computed" });
  expect(namedDelays({ soon: 5, never: Number.POSITIVE_INFINITY, odd: "x", fn: () => 1 })).toEqual({ soon: 5, fn: "computed" });
});

test("an `after` with a named delay is drawn with its length, or 'computed' for a function, from the definition alone", () => {
  expect(afterLabels(JSON.parse(definitionOf(reminder)))).toEqual(["after 1 min 30 s", "after 500 ms", "after backoff (computed)"]);
});

test("without lengths (an older server's definition), a named delay reads by its name; given ones win over the definition's", () => {
  const { delays: _lengths, ...bare } = JSON.parse(definitionOf(reminder)) as Record<string, unknown>;
  expect(afterLabels(bare)).toEqual(["after 500 ms", "after backoff", "after grace"]);
  expect(
    machineGraph(JSON.parse(definitionOf(reminder)), { delays: { backoff: 7_200_000 } })
      .edges.filter((edge) => edge.kind === "after")
      .map((edge) => edge.label),
  ).toContain("after 2 h");
});

test("an example machine's named delay reads as its length in the drawn statechart", async () => {
  const { svg } = await machineDiagram(JSON.parse(definitionOf(groceryAgent)));
  expect(svg).toContain(">after 48 h</text>");
  expect(svg).not.toContain("deliveryWindow");
});
