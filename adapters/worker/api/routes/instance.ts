import type { Context } from "hono";
import type { InstanceHandle } from "../../../../runtime/client";
import type { ApiHost } from "../app";
import { BODY_BYTES } from "../body";
import { endpoint, type Endpoint } from "../endpoint";
import type { ErrorCode } from "../error-codes";
import { DeletedAnswer, EventBody, InstancePath, InstanceStatusAnswer, NoOptionsBody, RestartBody, TerminateBody } from "../schemas";

/** The answer of every call on one instance: its id and status as they are now. */
const statusAnswer = async (c: Context, instance: InstanceHandle, status: 200 | 202 = 200) => c.json({ id: instance.id, ...(await instance.status()) }, status);

const STATUS = { 200: { description: "the instance's id and status", schema: InstanceStatusAnswer } };
const ADDRESSED: readonly ErrorCode[] = ["workflow.not_found", "instance.invalid_id", "instance.not_found", "definition.mismatch"];

/** One instance: its status, its lifecycle, its events, its deletion. */
export function instanceEndpoints(host: ApiHost): Endpoint[] {
  const instanceOf = (c: Context, { name, id }: { name: string; id: string }) => host.client(c.env).workflow(name).get(id);
  return [
    endpoint({
      method: "get",
      path: "/api/workflows/{name}/instances/{id}",
      summary: "The instance's status: { id, status, value, output?, error? }",
      params: InstancePath,
      answers: STATUS,
      errors: ADDRESSED,
      handle: async (c, { params }) => statusAnswer(c, await instanceOf(c, params)),
    }),
    endpoint({
      method: "delete",
      path: "/api/workflows/{name}/instances/{id}",
      summary: "Wipes the instance, its log included, and stops its work; the id can be used again",
      params: InstancePath,
      answers: { 200: { description: "deleted", schema: DeletedAnswer } },
      errors: ADDRESSED,
      handle: async (c, { params }) => {
        await (await instanceOf(c, params)).delete();
        return c.json({ id: params.id, deleted: true });
      },
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances/{id}/pause",
      summary: "Pauses the instance once the steps under way are done; a finished instance is left as it is, as on Cloudflare",
      params: InstancePath,
      body: { schema: NoOptionsBody, limit: BODY_BYTES },
      answers: STATUS,
      errors: ADDRESSED,
      handle: async (c, { params }) => {
        const instance = await instanceOf(c, params);
        await instance.pause();
        return statusAnswer(c, instance);
      },
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances/{id}/resume",
      summary: "Resumes a paused instance",
      params: InstancePath,
      body: { schema: NoOptionsBody, limit: BODY_BYTES },
      answers: STATUS,
      errors: [...ADDRESSED, "instance.cannot_resume"],
      handle: async (c, { params }) => {
        const instance = await instanceOf(c, params);
        await instance.resume();
        return statusAnswer(c, instance);
      },
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances/{id}/terminate",
      summary: "Terminates the instance; with rollback, its started steps' rollback handlers or compensations run first",
      params: InstancePath,
      body: { schema: TerminateBody, limit: BODY_BYTES },
      answers: STATUS,
      errors: [...ADDRESSED, "instance.cannot_terminate"],
      handle: async (c, { params, body: { rollback } }) => {
        const instance = await instanceOf(c, params);
        await instance.terminate(rollback ? { rollback: true } : {});
        return statusAnswer(c, instance);
      },
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances/{id}/restart",
      summary: "Restarts the instance from the start, or from a step: the steps before it keep their results",
      params: InstancePath,
      body: { schema: RestartBody, limit: BODY_BYTES },
      answers: STATUS,
      errors: [...ADDRESSED, "restart.invalid_from", "instance.cannot_restart"],
      handle: async (c, { params, body: { from } }) => {
        const instance = await instanceOf(c, params);
        await instance.restart(from === undefined ? {} : { from });
        return statusAnswer(c, instance);
      },
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances/{id}/events",
      summary: "Sends the instance an event",
      params: InstancePath,
      body: { schema: EventBody, limit: BODY_BYTES },
      answers: { 202: { description: "accepted: the event is in the log", schema: InstanceStatusAnswer } },
      errors: [...ADDRESSED, "event.invalid", "event.too_many_waiting", "instance.finished", "payload.not_serializable"],
      handle: async (c, { params, body: { type, payload, idempotencyKey } }) => {
        const instance = await instanceOf(c, params);
        await instance.sendEvent({ type, payload, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
        return statusAnswer(c, instance, 202);
      },
    }),
  ];
}
