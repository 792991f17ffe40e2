import { createWorkflows } from "../worker";
import { dataPipeline } from "./data-pipeline";
import { groceryAgent } from "./grocery-agent";
import { trainingLoop } from "./training-loop";

/** The example Worker that `npm start` runs: three workflows, the HTTP API under /api. */
const workflows = createWorkflows({ workflows: [trainingLoop, dataPipeline, groceryAgent] });

export const { WorkflowInstance, WorkflowRegistry } = workflows;

export default { fetch: workflows.fetch } satisfies ExportedHandler;
