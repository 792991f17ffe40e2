import type { Context } from "hono";
import { assertInstanceId } from "../../../../core/ids";
import type { PythonWorkers, WireCall } from "../../../../runtime/python-workers";
import { BATCH_BODY_BYTES } from "../body";
import { endpoint, type Endpoint } from "../endpoint";
import type { ErrorCode } from "../error-codes";
import {
  CallsAnswer,
  CallsBody,
  ClaimAnswer,
  ClaimBody,
  HeartbeatAnswer,
  HeartbeatBody,
  PROTOCOL,
  PythonInstancePath,
  PythonWorkflowPath,
  ReleaseAnswer,
  ReleaseBody,
} from "../python-schemas";

/** The path every Python worker route is under: its own token guards it (app.ts). */
export const PYTHON_PREFIX = "/api/python/";

/** A claim, a heartbeat or a release: a version, a worker's name or lease and a wait, so a few KiB at most. */
const SMALL_BODY_BYTES = 16 * 1024;

/**
 * A pass's calls: results carry step outputs of up to 1 MiB each, and a worker sends the calls made while its last
 * request was out as one; more than this it sends as several requests.
 */
const CALLS_BODY_BYTES = BATCH_BODY_BYTES;

const WORKFLOW: readonly ErrorCode[] = ["workflow.not_found", "workflow.not_python", "protocol.unsupported"];
const LEASED: readonly ErrorCode[] = [...WORKFLOW, "instance.invalid_id", "instance.not_found", "definition.mismatch", "lease.lost"];

/**
 * The Python worker protocol over HTTP (docs/python-protocol.md, version 1):
 * claim a task, send run()'s calls under its lease, keep the lease (and hear
 * of work) with a heartbeat, let the pass go. Bodies are checked against
 * python-schemas.ts before the host's `PythonWorkers` sees them.
 */
export function pythonEndpoints(python: (env: unknown, workflow: string) => PythonWorkers): Endpoint[] {
  const instance = (c: Context, workflow: string, id: string) => {
    assertInstanceId(id);
    return python(c.env, workflow);
  };
  return [
    endpoint({
      method: "post",
      path: "/api/python/v1/workflows/{workflow}/claim",
      summary: "A task: an instance of the workflow that wants a worker, under a new lease; waits up to waitMs for one",
      workerToken: true,
      params: PythonWorkflowPath,
      body: { schema: ClaimBody, limit: SMALL_BODY_BYTES },
      answers: {
        200: { description: "the task, leased to this worker", schema: ClaimAnswer },
        204: { description: "no instance wanted a worker within waitMs: claim again" },
      },
      errors: WORKFLOW,
      handle: async (c, { params: { workflow }, body: { worker, waitMs = 0 } }) => {
        const task = await python(c.env, workflow).claim(worker, waitMs);
        return task ? c.json({ protocol: PROTOCOL, task }) : c.body(null, 204);
      },
    }),
    endpoint({
      method: "post",
      path: "/api/python/v1/workflows/{workflow}/instances/{id}/calls",
      summary: "run()'s calls, in order, each answered once its records are durable; then the work to do now, and whether the pass is over",
      workerToken: true,
      params: PythonInstancePath,
      body: { schema: CallsBody, limit: CALLS_BODY_BYTES },
      answers: { 200: { description: "one answer per call, the work, and `end`", schema: CallsAnswer } },
      errors: LEASED,
      // The schema is WireCall's, its values typed `unknown` where WireCall says Json: they were parsed from JSON.
      handle: async (c, { params: { workflow, id }, body: { lease, calls } }) => c.json(await instance(c, workflow, id).calls(id, lease, calls as readonly WireCall[])),
    }),
    endpoint({
      method: "post",
      path: "/api/python/v1/workflows/{workflow}/instances/{id}/heartbeat",
      summary: "Renews the lease; waits up to waitMs (never past half the lease) for work or the pass's end",
      workerToken: true,
      params: PythonInstancePath,
      body: { schema: HeartbeatBody, limit: SMALL_BODY_BYTES },
      answers: { 200: { description: "the work, `end`, and the lease's length from now", schema: HeartbeatAnswer } },
      errors: LEASED,
      handle: async (c, { params: { workflow, id }, body: { lease, waitMs = 0 } }) => c.json(await instance(c, workflow, id).heartbeat(id, lease, waitMs)),
    }),
    endpoint({
      method: "post",
      path: "/api/python/v1/workflows/{workflow}/instances/{id}/release",
      summary: "Lets the pass go when run() can only wait; the instance is queued again when something new happens",
      workerToken: true,
      params: PythonInstancePath,
      body: { schema: ReleaseBody, limit: SMALL_BODY_BYTES },
      answers: { 200: { description: "`end: true`; or, where a rollback the log has under way needs this pass's handlers, `end: false` and their work", schema: ReleaseAnswer } },
      errors: LEASED,
      handle: async (c, { params: { workflow, id }, body: { lease } }) => c.json(await instance(c, workflow, id).release(id, lease)),
    }),
  ];
}
