import { describe, expect, expectTypeOf, it } from "vitest";
import { DagCycleError, dagTasks, defineDag, type MapItemContext, type TaskContext } from "../../index";

/**
 * The types of a DAG's callbacks come from its declaration. `npm run
 * typecheck` checks this file: each `@ts-expect-error` line must be an
 * error, or the check fails. The tests also run, so each declaration that
 * should compile is accepted by defineDag too.
 */

interface Env {
  API_KEY: string;
}

const base = dagTasks<{ source: string }, Env>()
  .task("fetch", { run: async (_, { params }) => [params.source.length, 2, 3] })
  .task("label", { needs: ["fetch"], run: ({ fetch }) => fetch.map(String) });

describe("DAG typing", () => {
  it("each callback receives the outputs it needs by name, typed, with the params, env and step context", () => {
    const tasks = base
      .task("count", {
        needs: ["fetch", "label"],
        run: ({ fetch, label }, ctx) => {
          expectTypeOf(fetch).toEqualTypeOf<number[]>();
          expectTypeOf(label).toEqualTypeOf<string[]>();
          expectTypeOf(ctx).toEqualTypeOf<TaskContext<{ source: string }, Env>>();
          expectTypeOf(ctx.env.API_KEY).toBeString();
          expectTypeOf(ctx.step).toEqualTypeOf<{ name: string; count: number }>();
          return { total: fetch.length + label.length };
        },
        rollback: ({ output, error, needs }) => {
          expectTypeOf(output).toEqualTypeOf<{ total: number } | undefined>();
          expectTypeOf(error).toEqualTypeOf<Error>();
          expectTypeOf(needs).toEqualTypeOf<{ fetch: number[]; label: string[] }>();
        },
      })
      .map("shout", {
        over: "label",
        run: async (item, ctx) => {
          expectTypeOf(item).toBeString();
          expectTypeOf(ctx).toEqualTypeOf<MapItemContext<{ source: string }, Env>>();
          return item.toUpperCase();
        },
      })
      .waitForEvent("approval", { needs: ["shout"], type: "approve", payload: {} as { by: string } })
      .sleep("rest", { needs: ["approval"], duration: "1 hour" })
      .task("report", {
        needs: ["shout", "approval", "rest", "count"],
        run: ({ shout, approval, rest, count }) => {
          expectTypeOf(shout).toEqualTypeOf<string[]>();
          expectTypeOf(approval).toEqualTypeOf<{ by: string }>();
          expectTypeOf(rest).toBeUndefined();
          return `${count.total} by ${approval.by}`;
        },
      });
    const def = defineDag({
      name: "typed",
      tasks,
      output: (outputs, params) => {
        expectTypeOf(outputs.report).toBeString();
        expectTypeOf(params).toEqualTypeOf<{ source: string }>();
        return outputs.report;
      },
    });
    expect(def.kind).toBe("machine");
  });

  it("a wrong name or a wrong type is a compile error", () => {
    // @ts-expect-error "missing" is not a task declared before
    base.task("x", { needs: ["missing"], run: () => 1 });
    // @ts-expect-error fetch is a number[], not a string
    base.task("x", { needs: ["fetch"], run: ({ fetch }) => fetch.toUpperCase() });
    // @ts-expect-error only what `needs` names is passed
    base.task("x", { needs: ["fetch"], run: ({ label }) => label });
    // @ts-expect-error a parameter typed otherwise than the output
    base.task("x", { needs: ["fetch"], run: ({ fetch }: { fetch: string }) => fetch });
    // @ts-expect-error the name is taken
    base.task("fetch", { run: () => 1 });
    // @ts-expect-error a map goes over a list: "count" is a number
    base.task("count", { run: () => 1 }).map("m", { over: "count", run: (n) => n });
    // @ts-expect-error items of "label" are strings
    base.map("m", { over: "label", run: (item: number) => item });
    // @ts-expect-error the rollback's output has the run's type
    base.task("n", { run: () => 1, rollback: ({ output }: { output: string | undefined }) => output });
    // @ts-expect-error params are typed
    base.task("p", { run: (_, { params }) => params.missing });
    defineDag({
      name: "typed",
      tasks: base,
      // @ts-expect-error the output reads only declared tasks
      output: ({ nope }) => nope,
    });
  });

  it("a cycle written around the types is still refused when the DAG is defined", () => {
    // @ts-expect-error "b" is declared after "a", so "a" cannot need it
    const tasks = dagTasks().task("a", { needs: ["b"], run: () => 1 }).task("b", { needs: ["a"], run: () => 2 });
    expect(() => defineDag({ name: "cyclic", tasks })).toThrow(DagCycleError);
  });
});
