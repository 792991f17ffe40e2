// The Worker's bindings (wrangler.toml) and variables (.dev.vars; `wrangler secret put` in production).
declare namespace Cloudflare {
  interface Env {
    WORKFLOW_INSTANCES: DurableObjectNamespace;
    WORKFLOW_REGISTRY: DurableObjectNamespace;
    API_TOKEN: string;
  }
}
interface Env extends Cloudflare.Env {}
