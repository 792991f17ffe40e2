import type { AnyWorkflowDefinition } from "../../core/definition";
import { resolveRetention, type RetentionOptions } from "../../core/retention";
import { WorkflowCatalog } from "../../runtime/catalog";
import { systemClock, type Clock } from "../../runtime/clock";
import { createInstanceObject } from "../durable-object/instance-object";
import { createRegistryObject } from "../durable-object/registry-object";
import type { RegistryOf } from "../../runtime/typed-client";
import { createClient, type Bindings, type WorkersClient } from "./client";
import { createApi } from "./api/app";
import { serveDashboard } from "./dashboard";

export interface WorkflowsOptions<TDefinition extends AnyWorkflowDefinition = AnyWorkflowDefinition> {
  /** What the Worker serves; their names and types type `client(env).workflow(name)`. */
  workflows: readonly TDefinition[];
  /** Env binding names of the two Durable Object namespaces (defaults: WORKFLOW_INSTANCES, WORKFLOW_REGISTRY). */
  bindings?: Partial<Bindings>;
  /** A snapshot every this many machine inputs (default 100). */
  snapshotEvery?: number;
  /** The instances' clock (default: the system clock). Tests pass one that can jump ahead. */
  clock?: Clock;
  /** How long finished instances are kept when create() does not say: 30 days unless set. */
  retention?: RetentionOptions;
}

/**
 * Wires workflows into a Worker. Export the two classes under these names
 * and bind them in wrangler.toml; use `fetch` as (or inside) the Worker's
 * fetch handler, and `client(env)` from your own code.
 */
export function createWorkflows<TDefinition extends AnyWorkflowDefinition>(options: WorkflowsOptions<TDefinition>) {
  const catalog = new WorkflowCatalog(options.workflows);
  const bindings: Bindings = { instances: "WORKFLOW_INSTANCES", registry: "WORKFLOW_REGISTRY", ...options.bindings };
  const retention = resolveRetention(options.retention);
  const client = (env: unknown): WorkersClient => createClient(env as Record<string, unknown>, catalog, bindings, retention);
  const api = createApi({
    catalog,
    client,
    token: (env) => (env as Record<string, unknown>).API_TOKEN,
    python: (env, workflow) => client(env).python(workflow),
    workerToken: (env) => (env as Record<string, unknown>).PYTHON_WORKER_TOKEN,
    // The instance's object answers the socket; it learns which instance from the query, the token stays behind.
    inspect: (env, workflow, id, request) => {
      const forwarded = new URL(request.url);
      forwarded.search = "";
      forwarded.searchParams.append("instance", workflow);
      forwarded.searchParams.append("instance", id);
      return client(env).stub(workflow, id).fetch(new Request(forwarded, request));
    },
  });
  return {
    /** A typed view of the same client: the API above serves names from requests, so it keeps the untyped one. */
    client: client as (env: unknown) => WorkersClient<RegistryOf<TDefinition>>,
    WorkflowInstance: createInstanceObject(catalog, { snapshotEvery: options.snapshotEvery ?? 100, clock: options.clock ?? systemClock, registryBinding: bindings.registry }),
    WorkflowRegistry: createRegistryObject(),
    /**
     * The Worker's `scheduled` handler: creates an instance of every workflow
     * whose `schedules` list `controller.cron` (which wrangler.toml's
     * `[triggers] crons` must also list), once per firing.
     */
    async scheduled(controller: ScheduledController, env: unknown): Promise<void> {
      await client(env).fireSchedule({ cron: controller.cron, scheduledTime: controller.scheduledTime });
    },
    async fetch(request: Request, env: unknown): Promise<Response> {
      const url = new URL(request.url);
      if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return api.fetch(request, env as Record<string, unknown>);
      const page = request.method === "GET" || request.method === "HEAD" ? serveDashboard(url.pathname) : undefined;
      if (page) return request.method === "HEAD" ? new Response(null, page) : page;
      return new Response("durable-machines: the dashboard is at /, the API under /api/workflows (see the README).\n", { status: 404 });
    },
  };
}
