import type { RunLedger } from "./run-ledger";

declare global {
  namespace Cloudflare {
    interface Env {
      API_TOKEN: string;
      PYTHON_WORKER_TOKEN: string;
      WORKFLOW_INSTANCES: DurableObjectNamespace;
      WORKFLOW_REGISTRY: DurableObjectNamespace;
      RUN_LEDGER: DurableObjectNamespace<RunLedger>;
    }
  }
}
