import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dagGraph, MAX_RUN_EDGES, MAX_RUN_STEPS, runAsOf, runGraph, type RunStep } from "../index";

/**
 * A code-first run's graph: arrows exactly where one step ended before the
 * next began and no third step sat between. PROPERTY_SEED=random explores
 * new cases (the seed is printed); the default stays fixed for CI.
 */
const SEED = process.env.PROPERTY_SEED === "random" ? Date.now() : Number(process.env.PROPERTY_SEED ?? 20261208);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);

const step = (key: string, startSeq: number, endSeq?: number): RunStep => ({ key, name: key, count: 1, kind: "do", startSeq, ...(endSeq === undefined ? {} : { endSeq }), success: endSeq === undefined ? null : true });

/** Each step's key and what it needs, sorted, for comparing. */
const needsOf = (steps: readonly RunStep[]) => Object.fromEntries(runGraph(steps).shape.tasks.map((task) => [task.name, [...task.needs].sort()]));

describe("a code-first run's graph", () => {
  it("draws steps run one after another as a chain, even when they share a millisecond", () => {
    expect(needsOf([step("a", 1, 2), step("b", 3, 4), step("c", 5, 6)])).toEqual({ a: [], b: ["a"], c: ["b"] });
  });

  it("draws a Promise.all as a fan out of the step before it and into the step after it", () => {
    // a; then b, c, d started together, ending out of order; then e.
    const steps = [step("a", 1, 2), step("b", 3, 8), step("c", 4, 6), step("d", 5, 7), step("e", 9, 10)];
    expect(needsOf(steps)).toEqual({ a: [], b: ["a"], c: ["a"], d: ["a"], e: ["b", "c", "d"] });
  });

  it("leaves out an arrow another path implies, and draws nothing after a step still running", () => {
    // b runs alongside a and c; c follows a; d follows b and c.
    expect(needsOf([step("a", 1, 2), step("b", 3, 6), step("c", 4, 5), step("d", 7, 8)])).toEqual({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] });
    expect(needsOf([step("a", 1), step("b", 2, 3)])).toEqual({ a: [], b: [] });
  });

  it("names a repeated step with its count, and colours each by its outcome", () => {
    const graph = runGraph([
      { ...step("do:fetch-1", 1, 2), name: "fetch" },
      { ...step("do:fetch-2", 3, 4), name: "fetch", count: 2, success: false },
      { ...step("sleep:nap-1", 5, 6), name: "nap", kind: "sleep", cancelled: true },
      { ...step("waitForEvent:ok-1", 7), name: "ok", kind: "waitForEvent" },
    ]);
    expect(graph.shape.tasks.map((task) => [task.label, task.kind])).toEqual([
      ["fetch", "task"],
      ["fetch #2", "task"],
      ["nap", "sleep"],
      ["ok", "event"],
    ]);
    expect({ ...graph.taskStates }).toEqual({ "do:fetch-1": "done", "do:fetch-2": "failed", "sleep:nap-1": "cancelled", "waitForEvent:ok-1": "running" });
    expect(dagGraph(graph.shape).nodes.map((node) => node.label)).toEqual(["fetch", "fetch #2", "nap", "ok"]);
  });

  it("tells a rollback apart from the step it undoes, which shares its key: the handlers follow the failure, in their order", () => {
    const forward = [step("do:load-1", 1, 2), step("do:charge-1", 3, 4), { ...step("do:ship-1", 5, 6), success: false }];
    const rollbacks = [{ ...step("do:charge-1", 7, 8), kind: "rollback" }, { ...step("do:load-1", 9, 10), kind: "rollback" }];
    const graph = runGraph([...forward, ...rollbacks]);
    expect(needsOf([...forward, ...rollbacks])).toEqual({
      "do:load-1": [],
      "do:charge-1": ["do:load-1"],
      "do:ship-1": ["do:charge-1"],
      "rollback:do:charge-1": ["do:ship-1"],
      "rollback:do:load-1": ["rollback:do:charge-1"],
    });
    expect(graph.taskStates["do:ship-1"]).toBe("failed");
    // Every box its own: the diagram's graph has as many nodes as the run has steps.
    expect(new Set(dagGraph(graph.shape).nodes.map((node) => node.id)).size).toBe(5);
    expect(() => dagGraph({ tasks: [...graph.shape.tasks, { name: "do:ship-1", kind: "task", needs: [] }] })).toThrow('two tasks are named "do:ship-1"');
  });

  it("shows a run as it stood after a record: later steps not begun, steps that ended later still running", () => {
    const steps = [step("a", 1, 2), step("b", 3, 6), step("c", 4, 5), step("d", 7, 8)];
    expect(runAsOf(steps, 4).map((s) => [s.key, s.endSeq, s.success])).toEqual([
      ["a", 2, true],
      ["b", undefined, null],
      ["c", undefined, null],
    ]);
    expect({ ...runGraph(runAsOf(steps, 5)).taskStates }).toEqual({ a: "done", b: "running", c: "done" });
  });

  it(`draws the newest ${MAX_RUN_STEPS} steps of a longer run and says how many it left out`, () => {
    const steps = Array.from({ length: MAX_RUN_STEPS + 200 }, (_, i) => step(`s${i}`, 2 * i + 1, 2 * i + 2));
    const graph = runGraph(steps);
    expect(graph.omitted).toBe(200);
    expect(graph.shape.tasks).toHaveLength(MAX_RUN_STEPS);
    expect(graph.shape.tasks[0]).toMatchObject({ name: "s200", needs: [] });
    expect(graph.shape.tasks[1]).toMatchObject({ name: "s201", needs: ["s200"] });
  });

  it(`keeps at most ${MAX_RUN_EDGES} arrows: between two wide Promise.alls a step past the limit keeps its nearest predecessor`, () => {
    const wide = 150;
    const first = Array.from({ length: wide }, (_, i) => step(`a${i}`, i + 1, wide + i + 1));
    const second = Array.from({ length: wide }, (_, i) => step(`b${i}`, 2 * wide + i + 1, 3 * wide + i + 1));
    const graph = runGraph([...first, ...second]);
    const arrows = graph.shape.tasks.reduce((sum, task) => sum + task.needs.length, 0);
    expect(graph.thinned).toBe(true);
    expect(arrows).toBeLessThanOrEqual(MAX_RUN_EDGES);
    expect(graph.shape.tasks.at(-1)!.needs).toEqual([`a${wide - 1}`]);
    expect(needsOf(first.slice(0, 3).concat(second.slice(0, 1)))["b0"]).toEqual(["a0", "a1", "a2"]);
  });

  it("is the transitive reduction of 'ended before it started', for any interleaving of starts and ends", () => {
    // A schedule: each step's start and (maybe) end as positions in one sequence of records.
    const schedule = fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 14 }).map((pairs) => {
      const records: { key: string; end: boolean }[] = [];
      pairs.forEach(([startAt, endAfter, ends], i) => {
        const start = startAt % (records.length + 1);
        records.splice(start, 0, { key: `s${i}`, end: false });
        if (ends) records.splice(start + 1 + (endAfter % (records.length - start)), 0, { key: `s${i}`, end: true });
      });
      const seqOf = (key: string, end: boolean) => records.findIndex((r) => r.key === key && r.end === end) + 1;
      return pairs.map((_, i) => step(`s${i}`, seqOf(`s${i}`, false), pairs[i]![2] ? seqOf(`s${i}`, true) : undefined));
    });
    fc.assert(
      fc.property(schedule, (steps) => {
        const before = (a: RunStep, b: RunStep) => a.endSeq !== undefined && a.endSeq < b.startSeq;
        const expected = Object.fromEntries(
          steps.map((b) => [b.key, steps.filter((a) => before(a, b) && !steps.some((c) => before(a, c) && before(c, b))).map((a) => a.key).sort()]),
        );
        expect(needsOf(steps)).toEqual(expected);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
