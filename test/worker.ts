import { createWorkflows } from "../worker";
import { gated } from "./workflows";

export { RunLedger } from "./run-ledger";

export const workflows = createWorkflows({ workflows: [gated], snapshotEvery: 2 });
export const { WorkflowInstance, WorkflowRegistry } = workflows;

export default { fetch: workflows.fetch } satisfies ExportedHandler;
