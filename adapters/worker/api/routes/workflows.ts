import type { ApiHost } from "../app";
import { endpoint, type Endpoint } from "../endpoint";
import { CountsAnswer, WorkflowPath, WorkflowsAnswer } from "../schemas";

/** The workflows: their names, and how many instances each has per status. */
export function workflowsEndpoints(host: ApiHost): Endpoint[] {
  return [
    endpoint({
      method: "get",
      path: "/api/workflows",
      summary: "The names of the workflows served",
      answers: { 200: { description: "the names", schema: WorkflowsAnswer } },
      errors: [],
      handle: (c) => c.json({ workflows: host.catalog.names() }),
    }),
    endpoint({
      method: "get",
      path: "/api/workflows/{name}",
      summary: "How many instances of the workflow have each status (every status listed, 0 when none)",
      params: WorkflowPath,
      answers: { 200: { description: "the counts", schema: CountsAnswer } },
      errors: ["workflow.not_found"],
      handle: async (c, { params: { name } }) => c.json({ name, counts: await host.client(c.env).workflow(name).counts() }),
    }),
  ];
}
