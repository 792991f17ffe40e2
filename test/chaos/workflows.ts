import { dagTasks, defineDag, defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig, type WorkflowStepContext } from "../../worker";
import { countedRun, type ChaosEnv } from "./counted";
import { RELEASE_COMPONENTS, type FulfilmentOutput, type FulfilmentParams, type ReleaseParams } from "./scenarios";

/**
 * The chaos run's code-first and DAG workflows, beside the examples: each
 * has a step that fails once and is retried, something it waits for (a
 * sleep, an event) and steps running at once, so a kill can land in any of
 * them. Their retries wait 100 ms.
 */

const retryOnce = { retries: { limit: 3, delay: 100, backoff: "constant" as const } };

/**
 * An order: reserve, charge (the gateway times out once), settle for 200 ms,
 * wait for approval, pack every item at once, ship. Every callback runs
 * through `countedRun`, under the key the log gives the step.
 */
class Fulfilment extends WorkflowEntrypoint<ChaosEnv, FulfilmentParams> {
  async run(event: Readonly<WorkflowEvent<FulfilmentParams>>, step: WorkflowStep): Promise<FulfilmentOutput> {
    const instance = `${event.workflowName}/${event.instanceId}`;
    const { order, items } = event.payload;
    const counted = <T>(name: string, config: WorkflowStepConfig, body: (ctx: WorkflowStepContext) => T) =>
      step.do(name, config, async (ctx) => countedRun(this.env, instance, `do:${ctx.step.name}-${ctx.step.count}`, ctx.attempt, () => body(ctx)));

    const reserved = await counted("reserve", {}, () => items.length);
    const receipt = await counted("charge", retryOnce, (ctx) => {
      if (ctx.attempt === 1) throw new Error("payment gateway timed out (simulated)");
      return `rcpt-${order}`;
    });
    await step.sleep("settle", 200);
    const approval = await step.waitForEvent<{ by: string }>("approval", { type: "approve", timeout: "1 hour" });
    const packed = await Promise.all(items.map((item) => counted(`pack ${item}`, {}, () => `box:${item}`)));
    const tracking = await counted("ship", {}, () => `trk-${order}`);
    return { order, reserved, receipt, approvedBy: approval.payload.by, packed, tracking };
  }
}

export const fulfilment = defineWorkflow({ name: "chaos-fulfilment", entrypoint: Fulfilment });

/**
 * A release as a DAG: plan the components, build them two at a time (the
 * worker's build fails once), wait for a sign-off, publish. Its bodies are
 * counted by `counted()`, as the examples' are.
 */
export const release = defineDag({
  name: "chaos-release",
  tasks: dagTasks<ReleaseParams>()
    .task("plan", { run: () => RELEASE_COMPONENTS })
    .map("build", {
      over: "plan",
      concurrency: 2,
      ...retryOnce,
      run: (component, { params, attempt }) => {
        if (component === "worker" && attempt === 1) throw new Error("build runner lost (simulated)");
        return `${component}-${params.version}.tgz`;
      },
    })
    .waitForEvent("signoff", { type: "signoff", timeout: "1 hour", payload: {} as { by: string } })
    .task("publish", { needs: ["build", "signoff"], run: ({ build }, { params }) => `release ${params.version} (${build.length} artifacts)` }),
  output: ({ build, signoff, publish }, params) => ({ version: params.version, artifacts: build, signedOffBy: signoff.by, published: publish }),
});
