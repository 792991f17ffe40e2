// The Worker's bindings (wrangler.toml) and variables (.dev.vars; `wrangler secret put` in production),
// typed as `wrangler types` types them, so its generated file and this one agree.
declare namespace Cloudflare {
  interface Env {
    WORKFLOW_INSTANCES: DurableObjectNamespace<import("./index").WorkflowInstance>;
    WORKFLOW_REGISTRY: DurableObjectNamespace<import("./index").WorkflowRegistry>;
    API_TOKEN: string;
  }
}
interface Env extends Cloudflare.Env {}
