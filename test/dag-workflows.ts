import { env } from "cloudflare:workers";
import { dagTasks, defineDag, type TaskContext } from "../index";
import type { TestEnv } from "./workflows";

export interface DagParams {
  /** Which instance a run belongs to, for the ledger's counts. */
  instance: string;
  /** The diamond's b waits at the ledger on its first run, until the test releases it. */
  holdB?: boolean;
}

const ledger = (env: TestEnv) => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));

/** Counts a run of `what` in the ledger, under `<instance>:<what>`, outside the instance's object. */
async function counted(ctx: TaskContext<DagParams, TestEnv>, what: string): Promise<number> {
  return ledger(ctx.env).ran(`${ctx.params.instance}:${what}`);
}

/**
 * How long a failed task waits for its one retry. A minute unless the Worker's DAG_RETRY_DELAY_MS var says
 * otherwise: the workerd tests evict the idle object while it waits and then move the clock past it, so the
 * retry can never come first on its own. The e2e dashboard tests run under wrangler dev, where nothing moves
 * the clock, and set the var to a second.
 */
export const DAG_RETRY_DELAY = Number((env as { DAG_RETRY_DELAY_MS?: string }).DAG_RETRY_DELAY_MS ?? 60_000);

const retryOnce = { retries: { limit: 1, delay: DAG_RETRY_DELAY, backoff: "constant" as const } };

/** a, then b and c together, then d with both: c's first attempt fails, so the object sits idle with b recorded (unless b is held). */
export const dagDiamond = defineDag({
  name: "dag-diamond",
  tasks: dagTasks<DagParams, TestEnv>()
    .task("a", { run: async (_, ctx) => (await counted(ctx, "a"), 3) })
    .task("b", {
      needs: ["a"],
      run: async ({ a }, ctx) => {
        if ((await counted(ctx, "b")) === 1 && ctx.params.holdB) await ledger(ctx.env).hold(`${ctx.params.instance}:b`);
        return a * 2;
      },
    })
    .task("c", {
      needs: ["a"],
      ...retryOnce,
      run: async ({ a }, ctx) => {
        await counted(ctx, "c");
        if (ctx.attempt === 1) throw new Error("c failed once");
        return a + 10;
      },
    })
    .task("d", { needs: ["b", "c"], run: async ({ b, c }, ctx) => (await counted(ctx, "d"), b * c) }),
  output: ({ a, b, c, d }) => ({ a, b, c, d }),
});

export const FANOUT_ITEMS = ["ant", "bee", "cat", "dog", "eel"];

/**
 * A list, a map over it two at a time, and a join. The last item's first
 * attempt fails: once the others are recorded, the object sits idle while
 * its retry waits.
 */
export const dagFanOut = defineDag({
  name: "dag-fanout",
  tasks: dagTasks<DagParams, TestEnv>()
    .task("list", { run: async (_, ctx) => (await counted(ctx, "list"), FANOUT_ITEMS) })
    .map("upper", {
      over: "list",
      concurrency: 2,
      ...retryOnce,
      run: async (item, ctx) => {
        await counted(ctx, `upper ${item}`);
        if (ctx.index === FANOUT_ITEMS.length - 1 && ctx.attempt === 1) throw new Error(`${item} failed once`);
        return item.toUpperCase();
      },
    })
    .task("join", { needs: ["upper"], run: async ({ upper }, ctx) => (await counted(ctx, "join"), upper.join("-")) }),
  output: ({ upper, join }) => ({ upper, join }),
});
