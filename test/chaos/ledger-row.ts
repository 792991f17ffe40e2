/** One step body's runs, as the chaos Worker's StepLedger keeps them and the chaos checks read them. */
export interface LedgerRow {
  /** `<workflow>/<instance id>`. */
  instance: string;
  /** The step's key as the log records it (`feed#2`, `transform.slot1#1`, `do:charge-1`). */
  key: string;
  attempt: number;
  /** How the body ended: it returned, or it threw. */
  outcome: "returned" | "threw";
  /** How many times a body ran to its end with this instance, key, attempt and outcome. */
  runs: number;
}
