/**
 * The Workers entry: everything in index.ts plus the Durable Object host.
 * It is separate because the host imports `cloudflare:workers`, which only
 * the Workers runtime provides; index.ts stays importable from Node.
 */
export * from "./index";
export { createWorkflows, type WorkflowsOptions } from "./adapters/worker/create-workflows";
export type { WorkersClient } from "./adapters/worker/client";
