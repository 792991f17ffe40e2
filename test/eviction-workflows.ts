import { defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";
import type { TestEnv } from "./workflows";

/** Where each workflow below stops at the ledger, so that a test can evict or abort its object right there. */
export interface EvictionParams {
  /** The rollback handler that holds on its first run. */
  holdUndo?: string;
  /** The rollback handler whose first run fails (its rollbackConfig retries it after UNDO_RETRY_DELAY). */
  failUndo?: string;
  /** Which run of step "b" holds (2: the run a restart makes). */
  holdB?: number;
}

/** Long enough that the handler's retry never comes on its own during a test, which moves the clock to reach it. */
export const UNDO_RETRY_DELAY = 60_000;

const ledger = (env: TestEnv) => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));

/** Counts a run under `<instance id>:<name>` and, when `holds(run)`, waits there until the test releases it. */
async function counted(env: TestEnv, event: WorkflowEvent<EvictionParams>, name: string, holds: (run: number) => boolean): Promise<number> {
  const key = `${event.instanceId}:${name}`;
  const run = await ledger(env).ran(key);
  if (holds(run)) await ledger(env).hold(key);
  return run;
}

/** A saga of three steps that fails after the last: its handlers run newest first, each counted. */
export const evictedSaga = defineWorkflow({
  name: "evicted-saga",
  entrypoint: class extends WorkflowEntrypoint<TestEnv, EvictionParams> {
    async run(event: WorkflowEvent<EvictionParams>, step: WorkflowStep) {
      const undo = (name: string) => ({
        rollback: async () => {
          const run = await counted(this.env, event, `undo ${name}`, (n) => n === 1 && event.payload.holdUndo === name);
          if (run === 1 && event.payload.failUndo === name) throw new Error(`undo ${name} failed once`);
        },
        rollbackConfig: { retries: { limit: 1, delay: UNDO_RETRY_DELAY, backoff: "constant" as const } },
      });
      for (const name of ["reserve", "charge", "ship"]) await step.do(name, async () => counted(this.env, event, name, () => false), undo(name));
      throw new TypeError("parcel lost");
    }
  },
});

/** Three steps with a wait for a "go" event before the last; "b" holds on the run `holdB` names. */
export const evictedRelay = defineWorkflow({
  name: "evicted-relay",
  entrypoint: class extends WorkflowEntrypoint<TestEnv, EvictionParams> {
    async run(event: WorkflowEvent<EvictionParams>, step: WorkflowStep) {
      const a = await step.do("a", async () => counted(this.env, event, "a", () => false));
      const b = await step.do("b", async () => counted(this.env, event, "b", (n) => n === event.payload.holdB));
      await step.waitForEvent("go", { type: "go", timeout: "1 hour" });
      const c = await step.do("c", async () => counted(this.env, event, "c", () => false));
      return { a, b, c };
    }
  },
});
