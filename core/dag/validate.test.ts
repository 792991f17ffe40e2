import { describe, expect, it } from "vitest";
import {
  DagCycleError,
  dagTasks,
  DagTasks,
  defineDag,
  DuplicateTaskError,
  EmptyDagError,
  InvalidDagError,
  InvalidDefinitionError,
  InvalidTaskError,
  UnknownDependencyError,
} from "../../index";
import type { TaskSpec } from "./types";

/** Tasks as a JavaScript caller (or a cast) could hand them over, past what the types allow. */
function raw(...specs: Partial<TaskSpec>[]): DagTasks {
  return new DagTasks(specs.map((spec) => ({ kind: "task", needs: [], run: () => null, ...spec }) as TaskSpec));
}

function refusal(define: () => unknown): InvalidDagError {
  let caught: unknown;
  try {
    define();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidDagError);
  return caught as InvalidDagError;
}

describe("defineDag refuses, naming the culprit", () => {
  it("an empty DAG", () => {
    const error = refusal(() => defineDag({ name: "nothing", tasks: dagTasks() }));
    expect(error).toBeInstanceOf(EmptyDagError);
    expect(error).toMatchObject({ code: "dag.empty", dag: "nothing" });
    expect(error.message).toBe('DAG "nothing" is invalid: it has no tasks; add at least one with dagTasks().task(...).');
  });

  it("a duplicate task name", () => {
    const error = refusal(() => defineDag({ name: "twice", tasks: raw({ name: "a" }, { name: "b" }, { name: "a" }) }));
    expect(error).toBeInstanceOf(DuplicateTaskError);
    expect(error).toMatchObject({ code: "dag.duplicate_task", dag: "twice", task: "a" });
    expect(error.message).toBe('DAG "twice" is invalid: two tasks are named "a"; give each task its own name.');
  });

  it("a dependency that does not exist, in needs or as the list a map goes over", () => {
    const needs = refusal(() => defineDag({ name: "lost", tasks: raw({ name: "a" }, { name: "b", needs: ["a", "ghost"] }) }));
    expect(needs).toBeInstanceOf(UnknownDependencyError);
    expect(needs).toMatchObject({ code: "dag.unknown_dependency", task: "b", dependency: "ghost" });
    expect(needs.message).toBe('DAG "lost" is invalid: task "b" needs "ghost", which is not one of its tasks ("a", "b").');
    const over = refusal(() => defineDag({ name: "lost", tasks: raw({ name: "a" }, { kind: "map", name: "m", over: "nowhere", concurrency: 1 }) }));
    expect(over).toMatchObject({ code: "dag.unknown_dependency", task: "m", dependency: "nowhere" });
  });

  it("a cycle, printed as the path around it", () => {
    const two = refusal(() => defineDag({ name: "loop", tasks: raw({ name: "a", needs: ["b"] }, { name: "b", needs: ["a"] }) }));
    expect(two).toBeInstanceOf(DagCycleError);
    expect(two).toMatchObject({ code: "dag.cycle", cycle: ["a", "b", "a"] });
    expect(two.message).toBe('DAG "loop" is invalid: its tasks need each other in a cycle, a -> b -> a; a task can only need tasks that do not need it back.');
    const self = refusal(() => defineDag({ name: "loop", tasks: raw({ name: "root" }, { name: "me", needs: ["root", "me"] }) }));
    expect((self as DagCycleError).cycle).toEqual(["me", "me"]);
    const long = refusal(() =>
      defineDag({ name: "loop", tasks: raw({ name: "start" }, { name: "x", needs: ["start", "z"] }, { name: "y", needs: ["x"] }, { name: "z", needs: ["y"] }) }),
    );
    expect(long.message).toContain("x -> z -> y -> x");
  });

  it("a task whose own options are wrong: its name, retries, a duration, a concurrency, an event type; and a bad maxConcurrency", () => {
    const cases: [TaskSpec | Partial<TaskSpec>, RegExp][] = [
      [{ name: "a.b" }, /task "a\.b" has an invalid name/],
      [{ name: "r", retries: { limit: -1, delay: 0 } }, /task "r" has an invalid option: .*retries\.limit must be an integer >= 0, got -1/],
      [{ name: "t", timeout: "soon" as never }, /task "t" has an invalid option: "soon" is not a duration/],
      [{ kind: "sleep", name: "s", duration: "1 fortnight" as never }, /task "s" has an invalid option: "1 fortnight" is not a duration/],
      [{ kind: "event", name: "e", type: "xstate.done", timeout: "1 hour" }, /task "e" has an invalid option: Event type "xstate.done" is invalid/],
      [{ kind: "event", name: "e", type: "go", timeout: 0 }, /task "e" has a timeout of 0/],
      [{ name: "f", run: "not a function" as never }, /task "f" has no run function/],
    ];
    for (const [spec, message] of cases) {
      const error = refusal(() => defineDag({ name: "opts", tasks: raw(spec) }));
      expect(error).toBeInstanceOf(InvalidTaskError);
      expect(error.code).toBe("dag.invalid_task");
      expect(error.message).toMatch(message);
    }
    const map = refusal(() => defineDag({ name: "opts", tasks: dagTasks().task("l", { run: () => [1] }).map("m", { over: "l", concurrency: 0, run: (n) => n }) }));
    expect(map.message).toBe('DAG "opts" is invalid: task "m" has concurrency 0; use a whole number from 1 to 100.');
    const overSleep = refusal(() => defineDag({ name: "opts", tasks: raw({ kind: "sleep", name: "nap", duration: 1 }, { kind: "map", name: "m", over: "nap", concurrency: 1 }) }));
    expect(overSleep.message).toContain('task "m" maps over "nap", a sleep, which has no list to map.');
    const bound = refusal(() => defineDag({ name: "opts", maxConcurrency: 0, tasks: dagTasks().task("a", { run: () => 1 }) }));
    expect(bound).toMatchObject({ code: "dag.invalid_option" });
    expect(bound.message).toBe('DAG "opts" is invalid: maxConcurrency must be a whole number above 0, got 0.');
  });

  it.each(["constructor", "toString", "__proto__"])("an event gate on the type %j, which XState cannot serialize", (type) => {
    const error = refusal(() => defineDag({ name: "gate", tasks: dagTasks().waitForEvent("open", { type }) }));
    expect(error).toBeInstanceOf(InvalidTaskError);
    expect(error.message).toContain(`task "open" waits for the event type "${type}"`);
  });

  it("a name no workflow may have, as defineWorkflow refuses it", () => {
    expect(() => defineDag({ name: "no spaces", tasks: dagTasks().task("a", { run: () => 1 }) })).toThrow(InvalidDefinitionError);
  });
});
