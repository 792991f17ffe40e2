import { createWorkflows } from "../worker";
import { dataPipeline } from "./data-pipeline";
import { groceryAgent } from "./grocery-agent";
import { pythonExamples } from "./python-examples";
import { trainingLoop } from "./training-loop";

/**
 * The example Worker that `npm start` runs, the HTTP API under /api: three
 * workflows in TypeScript, and three in Python (examples/python) that a
 * worker process runs once started beside it.
 */
const workflows = createWorkflows({ workflows: [trainingLoop, dataPipeline, groceryAgent, ...pythonExamples] });

// Classes rather than destructured constants, as README advises: `wrangler types` names them as types.
export class WorkflowInstance extends workflows.WorkflowInstance {}
export class WorkflowRegistry extends workflows.WorkflowRegistry {}

export default { fetch: workflows.fetch } satisfies ExportedHandler;
