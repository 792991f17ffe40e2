import type { StepMock } from "./test-hooks";
import { WorkflowTimeoutError } from "./step-runner";

/**
 * The body a mocked attempt runs instead of the step's own: the test's value,
 * the test's error as thrown, or the error a real timeout gives, at once.
 */
export function mockedBody(mock: StepMock, timeoutMs: number): () => unknown {
  switch (mock.type) {
    case "result":
      return () => mock.value;
    case "error":
      return () => {
        throw mock.error;
      };
    case "timeout":
      return () => {
        throw new WorkflowTimeoutError(timeoutMs);
      };
  }
}
