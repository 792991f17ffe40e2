import { WorkflowEntrypoint as CloudflareEntrypoint, type WorkflowEvent as CfEvent, type WorkflowStep as CfStep } from "cloudflare:workers";
import { defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";
import { createWorkflows } from "../../worker";

/**
 * One workflow body, "lab", written against Cloudflare's API and run by both engines in one workerd, so
 * Cloudflare's local explorer and our dashboard can be put side by side on the same instances
 * (e2e/compare.test.ts). Its params choose what an instance does; the test pauses and terminates some.
 */
export type Scenario = "complete" | "retries" | "sleeping" | "waiting" | "rollback";

export interface LabParams {
  scenario: Scenario;
}

/** A compensation that does nothing but exist, so each engine runs and records it. */
const undo = { rollback: async () => undefined, rollbackConfig: { retries: { limit: 0, delay: 0 } } };

async function lab(event: WorkflowEvent<LabParams>, step: WorkflowStep): Promise<unknown> {
  const { scenario } = event.payload;
  const order = await step.do("load order", async () => ({ order: "A-1042", items: 3 }));
  if (scenario === "retries") {
    await step.do("call flaky api", { retries: { limit: 2, delay: 100, backoff: "constant" } }, async (ctx) => {
      throw new Error(`upstream answered 503 (attempt ${ctx.attempt})`);
    });
  }
  if (scenario === "sleeping") await step.sleep("cool down", "2 days");
  if (scenario === "waiting") await step.waitForEvent("approval", { type: "approve", timeout: "2 days" });
  const seat = await step.do("reserve seat", async () => ({ seat: "12A" }), undo);
  const charge = await step.do("charge card", async () => ({ receipt: 7 }), undo);
  if (scenario === "rollback") {
    await step.do("ship", { retries: { limit: 0, delay: 0 } }, async () => {
      throw new TypeError("no courier available");
    });
  }
  return { ...order, ...seat, ...charge };
}

export class CloudflareLab extends CloudflareEntrypoint<unknown, LabParams> {
  override async run(event: CfEvent<LabParams>, step: CfStep) {
    return lab(event as unknown as WorkflowEvent<LabParams>, step as unknown as WorkflowStep) as Promise<never>;
  }
}

class OurLab extends WorkflowEntrypoint<unknown, LabParams> {
  async run(event: WorkflowEvent<LabParams>, step: WorkflowStep) {
    return lab(event, step);
  }
}

const workflows = createWorkflows({ workflows: [defineWorkflow({ name: "lab", entrypoint: OurLab })] });
export const { WorkflowInstance, WorkflowRegistry } = workflows;

interface Env {
  LAB: Workflow<LabParams>;
}

/** What the test does to an instance of either engine: the calls Cloudflare's binding and our client share. */
interface Handle {
  status(): Promise<{ status: string }>;
  pause(): Promise<void>;
  terminate(): Promise<void>;
  sendEvent(event: { type: string; payload: unknown }): Promise<void>;
}

async function handle(env: Env, engine: string, id: string, params?: LabParams): Promise<Handle> {
  if (engine === "theirs") return params ? env.LAB.create({ id, params }) : env.LAB.get(id);
  const lab = workflows.client(env).workflow("lab");
  return params ? lab.create({ id, params }) : lab.get(id);
}

/**
 * POST /control/<theirs|ours>/<id>/<create|pause|terminate|event> drives either engine through its own API (a body of
 * params for create, of { type, payload } for event); GET /control/<engine>/<id> reads its status. Everything else is ours.
 */
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const [, control, engine, id, action] = new URL(request.url).pathname.split("/");
    if (control !== "control" || !engine || !id) return workflows.fetch(request, env);
    const body = request.method === "POST" ? await request.json<Record<string, unknown>>().catch(() => ({})) : {};
    try {
      const instance = await handle(env, engine, decodeURIComponent(id), action === "create" ? (body as unknown as LabParams) : undefined);
      if (action === "pause") await instance.pause();
      if (action === "terminate") await instance.terminate();
      if (action === "event") await instance.sendEvent(body as { type: string; payload: unknown });
      return Response.json(await instance.status());
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env>;
