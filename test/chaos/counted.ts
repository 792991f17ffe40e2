import type { StepArgs, StepBody, WorkflowDefinition } from "../../core/definition";
import type { LedgerRow } from "./ledger-row";
import type { StepLedger } from "./step-ledger";

/** What the chaos Worker's objects and step bodies see of its env. */
export interface ChaosEnv {
  STEP_LEDGER: DurableObjectNamespace<StepLedger>;
  /** `<workflow>/<instance id>` of the object a step body runs in; set by the chaos Worker's instance class. */
  CHAOS_INSTANCE?: string;
}

export const ledgerOf = (env: ChaosEnv) => env.STEP_LEDGER.get(env.STEP_LEDGER.idFromName("ledger"));

/** Adds one run of a body that ended to the ledger. */
export async function countRun(env: ChaosEnv, instance: string, key: string, attempt: number, outcome: LedgerRow["outcome"]): Promise<void> {
  await ledgerOf(env).ran(instance, key, attempt, outcome);
}

/**
 * The same workflow for the chaos run: its machine, its hash and its bodies'
 * results unchanged, but every body counts its run in the ledger as it ends
 * (returned or threw), and no retry waits longer than `maxRetryDelayMs`, so
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
        let output: unknown;
        try {
          output = await body(args);
        } catch (error) {
          await countRun(env, instance, args.stepId, args.attempt, "threw");
          throw error;
        }
        await countRun(env, instance, args.stepId, args.attempt, "returned");
        return output;
      };
    },
  };
}
