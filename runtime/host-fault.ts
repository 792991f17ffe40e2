/**
 * A host fault: the store (or a host's callback) threw while a driver wrote a
 * record. What the driver holds in memory may then be ahead of its log, and
 * work that no request waits on (a step's result, run()'s end, a rollback)
 * would be lost with nothing recorded. The driver logs the fault, stops its
 * work, and after this long reloads from its log through its wake-up (a
 * Durable Object's alarm, which outlives an eviction), as a restart would.
 */
export const FAULT_RETRY_MS = 1_000;

export function logFault(instance: { workflow: string; instanceId: string }, error: unknown): void {
  console.error(
    `durable-machines: instance "${instance.instanceId}" of "${instance.workflow}" could not record its progress; it reloads from its log in ${FAULT_RETRY_MS / 1000} s.`,
    error,
  );
}
