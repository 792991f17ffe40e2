import { createWorkflows, defineWorkflow } from "../../worker";
import { pythonExamples } from "../../machines/python-examples";
import { twinPy, twinTs } from "./conformance";

/**
 * The Worker the Python integration suite (python/tests/integration) runs in
 * workerd: the Python examples as `npm start` serves them, the conformance
 * twins, and the counted workflow of the kill tests, whose short lease lets a
 * test see a lost worker's instance go to another in seconds.
 */
const counted = defineWorkflow({ name: "py-counted", python: { leaseMs: 3_000 } });

const workflows = createWorkflows({ workflows: [...pythonExamples, twinTs, twinPy, counted] });

export const { WorkflowInstance, WorkflowRegistry } = workflows;

export default { fetch: workflows.fetch } satisfies ExportedHandler;
