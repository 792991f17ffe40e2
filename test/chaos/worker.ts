import { env as workerEnv } from "cloudflare:workers";
import { createWorkflows } from "../../worker";
import { dataPipeline } from "../../machines/data-pipeline";
import { groceryAgent } from "../../machines/grocery-agent";
import { trainingLoop } from "../../machines/training-loop";
import { counted, ledgerOf, type ChaosEnv } from "./counted";
import { fulfilment, release } from "./workflows";

export { StepLedger } from "./step-ledger";

/**
 * The Worker the chaos run kills (test/chaos/chaos.run.ts): the three
 * examples, a code-first and a DAG workflow, each step body waiting
 * CHAOS_STEP_MS (as a call out would) and counted in the StepLedger as it
 * ends, retries capped at CHAOS_RETRY_DELAY_MS. Besides the HTTP API
 * it answers one route of its own, `GET /chaos/ledger?offset=&limit=`,
 * with the ledger's rows, behind the same token.
 */
const maxRetryDelayMs = Number((workerEnv as { CHAOS_RETRY_DELAY_MS?: string }).CHAOS_RETRY_DELAY_MS ?? 200);

const workflows = createWorkflows({
  workflows: [counted(trainingLoop, maxRetryDelayMs), counted(dataPipeline, maxRetryDelayMs), counted(groceryAgent, maxRetryDelayMs), fulfilment, counted(release, maxRetryDelayMs)],
});

/**
 * The engine's instance object, told which instance it holds: step bodies
 * get the object's env, and the ledger needs to know whose run it counts.
 * The object's name is `<workflow>/<instance id>` (how the client names it).
 */
export class WorkflowInstance extends workflows.WorkflowInstance {
  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, { ...env, CHAOS_INSTANCE: ctx.id.name });
  }
}

export const { WorkflowRegistry } = workflows;

const LEDGER_PAGE = 1000;

export default {
  async fetch(request: Request, env: ChaosEnv & { API_TOKEN: string }): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/chaos/ledger") return workflows.fetch(request, env);
    if (request.headers.get("authorization") !== `Bearer ${env.API_TOKEN}`) return Response.json({ error: { code: "auth.invalid" } }, { status: 401 });
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const limit = Math.min(Number(url.searchParams.get("limit") ?? LEDGER_PAGE), LEDGER_PAGE);
    return Response.json({ rows: await ledgerOf(env).rows(offset, limit) });
  },
} satisfies ExportedHandler<ChaosEnv & { API_TOKEN: string }>;
