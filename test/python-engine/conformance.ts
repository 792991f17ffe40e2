import { defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../worker";

/**
 * The conformance workflow in TypeScript; conformance.py is the same workflow
 * in Python, line for line. A sequence, a retried step, a gather, a sleep, an
 * event wait and a last step: the integration suite runs both and compares
 * their logs' record types and step keys and their subscribe() events.
 */
class Twin extends WorkflowEntrypoint<unknown, { items: string[] }> {
  async run(event: Readonly<WorkflowEvent<{ items: string[] }>>, step: WorkflowStep) {
    const items = await step.do("prepare", async () => event.payload.items.map((item) => item.toUpperCase()));
    const recovered = await step.do("flaky", { retries: { limit: 2, delay: 100, backoff: "constant" } }, async (ctx) => {
      if (ctx.attempt === 1) throw new Error("transient failure (simulated)");
      return `recovered on attempt ${ctx.attempt}`;
    });
    const packed = await Promise.all(items.map((item) => step.do(`pack ${item}`, async () => `box:${item}`)));
    await step.sleep("settle", 1_000);
    const approval = await step.waitForEvent<{ by: string }>("approval", { type: "approve", timeout: "1 hour" });
    const shipped = await step.do("ship", async () => `${packed.length} boxes approved by ${approval.payload.by}`);
    return { recovered, packed, shipped };
  }
}

export const twinTs = defineWorkflow({ name: "twin-ts", entrypoint: Twin });
export const twinPy = defineWorkflow({ name: "twin-py", python: { leaseMs: 30_000 } });
