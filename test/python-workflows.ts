import { defineWorkflow } from "../index";

/** Lease of the Python-served test workflows: long enough that no test's clock moves lapse it. */
export const PY_LEASE_MS = 60_000;

/**
 * Workflows served by Python for python-workers.test.ts, driven by hand as
 * a worker would: one per test, so that each test's claim queue is its own
 * (py-dashboard is the browser test's, e2e/dashboard.test.ts).
 */
export const pythonWorkflows = ["py-pass", "py-long-poll", "py-retry", "py-evicted", "py-aborted", "py-queue-kept", "py-lost-entry", "py-race", "py-deleted", "py-http", "py-dashboard"].map((name) =>
  defineWorkflow({ name, python: { leaseMs: PY_LEASE_MS } }),
);
