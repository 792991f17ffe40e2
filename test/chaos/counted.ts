import type { StepArgs, StepBody, WorkflowDefinition } from "../../core/definition";
import type { LedgerRow } from "./ledger-row";
import type { StepLedger } from "./step-ledger";

/** What the chaos Worker's objects and step bodies see of its env. */
export interface ChaosEnv {
  STEP_LEDGER: DurableObjectNamespace<StepLedger>;
  /** `<workflow>/<instance id>` of the object a step body runs in; set by the chaos Worker's instance class. */
  CHAOS_INSTANCE?: string;
  /** Milliseconds each body waits before it works, as a call to a service would: kills then land in bodies, not only between them. */
  CHAOS_STEP_MS?: string;
}

export const ledgerOf = (env: ChaosEnv) => env.STEP_LEDGER.get(env.STEP_LEDGER.idFromName("ledger"));

/** Runs a step body as the chaos Worker runs every one: after CHAOS_STEP_MS of waiting, then counted in the ledger as it ends (returned or threw). */
export async function countedRun<T>(env: ChaosEnv, instance: string, key: string, attempt: number, body: () => T | Promise<T>): Promise<T> {
  const record = (outcome: LedgerRow["outcome"]) => ledgerOf(env).ran(instance, key, attempt, outcome);
  await new Promise((resolve) => setTimeout(resolve, Number(env.CHAOS_STEP_MS ?? 0)));
  let output: T;
  try {
    output = await body();
  } catch (error) {
    await record("threw");
    throw error;
  }
  await record("returned");
  return output;
}

/**
 * The same workflow for the chaos run: its machine, its hash and its bodies'
 * results unchanged, but every body runs through `countedRun` (a short wait,
 * then counted in the ledger as it ends), and no retry waits longer than `maxRetryDelayMs`, so
 * the examples' simulated failures (a minute for the trainer, 10 s then 20 s
 * for the grocery checkout) cost the run fractions of a second. Timeouts and
 * the machines' own delays are kept: the run sends the events they wait for.
 */
export function counted<T extends WorkflowDefinition>(def: T, maxRetryDelayMs: number): T {
  return {
    ...def,
    policy: (src) => {
      const policy = def.policy(src);
      return { ...policy, delayMs: Math.min(policy.delayMs, maxRetryDelayMs) };
    },
    stepBody: (src): StepBody => {
      const body = def.stepBody(src);
      return async (args: StepArgs) => {
        const env = args.env as ChaosEnv;
        const instance = env.CHAOS_INSTANCE;
        if (instance === undefined) throw new Error("the chaos Worker's instance class sets CHAOS_INSTANCE; is WorkflowInstance exported from test/chaos/worker.ts?");
        return countedRun(env, instance, args.stepId, args.attempt, () => body(args));
      };
    },
  };
}
