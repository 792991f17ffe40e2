import type { AnyWorkflowDefinition } from "../core/definition";
import type { LogRecord } from "../core/records";
import { StepHistoryBuilder, type HistoryStep } from "../core/step-history";
import { utf8Length } from "../core/json";
import { MAX_PAGE_BYTES, type InstanceHandle } from "./client";
import { logPages } from "./history-pages";

/**
 * An instance's step history, read from its log a page at a time and never
 * held whole; read twice when a restart from a step needs the history as it
 * stood before that step. `definitionOf` gives the definition the instance
 * was created with, from the hash its first record names.
 */
export async function readStepHistory(instance: Pick<InstanceHandle, "historyPage">, definitionOf: (definitionHash: string) => AnyWorkflowDefinition): Promise<HistoryStep[]> {
  let def: AnyWorkflowDefinition | undefined;
  const pass = async (checkpoints: readonly number[]) => {
    let builder: StepHistoryBuilder | undefined;
    for await (const page of logPages(instance)) {
      def ??= definitionOf((page[0] as LogRecord<"instance.created">).data.definitionHash);
      builder ??= new StepHistoryBuilder(def, checkpoints);
      builder.push(page);
    }
    return builder;
  };
  const checkpoints: number[] = [];
  for (;;) {
    const builder = await pass(checkpoints);
    if (!builder) return [];
    // A restart written between two passes can ask for one more.
    if (!builder.missingCheckpoints.length) return builder.steps();
    checkpoints.push(...builder.missingCheckpoints);
  }
}

/** One page of a step history: `next` (the `after` of the next page) only when more steps follow. */
export interface StepHistoryPage {
  steps: HistoryStep[];
  next?: number;
}

/**
 * The steps after the first `after`, at most `limit` and MAX_PAGE_BYTES of
 * JSON (always one step when any is left), so no answer grows with the run:
 * a step's output alone may be 1 MiB.
 */
export function stepHistoryPage(steps: readonly HistoryStep[], after: number, limit: number): StepHistoryPage {
  const page: HistoryStep[] = [];
  let bytes = 0;
  for (let i = after; i < steps.length && page.length < limit; i++) {
    bytes += utf8Length(JSON.stringify(steps[i]));
    if (page.length && bytes > MAX_PAGE_BYTES) break;
    page.push(steps[i]!);
  }
  const end = after + page.length;
  return end < steps.length ? { steps: page, next: end } : { steps: page };
}
