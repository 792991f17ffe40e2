import { defineWorkflow, NonRetryableError, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";

export interface BookingParams {
  /** The card is declined: the charge fails for good, and the reservation and the charge are rolled back. */
  fail?: boolean;
}

/** How long the booking's retry and sleep wait, in ms. */
export const BOOKING_DELAY_MS = 50;

/** A booking's steps as its step history lists them, [kind, name, count], in the order they start. */
export const BOOKING_STEPS = [
  ["do", "mint token", 1],
  ["do", "reserve seat", 1],
  ["do", "notify", 1],
  ["do", "notify", 2],
  ["sleep", "cool down", 1],
  ["waitForEvent", "approval", 1],
  ["do", "charge card", 1],
];

/** What follows them when the card is declined: the handlers, newest step first. */
export const BOOKING_ROLLBACKS = [
  ["rollback", "charge card", 1],
  ["rollback", "reserve seat", 1],
];

/**
 * A code-first booking with a step of every kind the step history shows: a
 * sensitive step, a step that fails once and is retried, two parallel steps
 * of one name, a sleep, a wait for an "approve" event, and a charge with a
 * rollback handler (as the reservation has) that fails when asked to.
 */
export const booking = defineWorkflow({
  name: "booking",
  entrypoint: class extends WorkflowEntrypoint<unknown, BookingParams> {
    async run(event: WorkflowEvent<BookingParams>, step: WorkflowStep) {
      const token = await step.do("mint token", { sensitive: "output" }, async () => "s3cr3t-token");
      const { seat } = await step.do(
        "reserve seat",
        { retries: { limit: 2, delay: BOOKING_DELAY_MS, backoff: "constant" } },
        async (ctx) => {
          if (ctx.attempt === 1) throw new Error("seat map busy");
          return { seat: "12A" };
        },
        { rollback: async () => undefined, rollbackConfig: { retries: { limit: 0, delay: 0 } } },
      );
      await Promise.all([step.do("notify", async () => "email"), step.do("notify", async () => "sms")]);
      await step.sleep("cool down", BOOKING_DELAY_MS);
      const approval = await step.waitForEvent<{ by?: string } | undefined>("approval", { type: "approve", timeout: "1 hour" });
      const { receipt } = await step.do(
        "charge card",
        { retries: { limit: 0, delay: 0 } },
        async () => {
          if (event.payload?.fail) throw new NonRetryableError("card declined");
          return { receipt: "R-1" };
        },
        { rollback: async () => undefined },
      );
      return { seat, receipt, by: approval.payload?.by ?? null, tokenLength: token.length };
    }
  },
});
