import type { CreateOptions, ListOptions } from "../../../../runtime/client";
import type { InstanceStatusName } from "../../../../core/status";
import type { ApiHost } from "../app";
import { BATCH_BODY_BYTES, BODY_BYTES } from "../body";
import { endpoint, type Endpoint } from "../endpoint";
import {
  BatchCreateBody,
  BatchCreatedAnswer,
  BatchDeleteBody,
  BatchDeletedAnswer,
  CreateBody,
  DeletedAllAnswer,
  InstanceListAnswer,
  InstanceStatusAnswer,
  ListQuery,
  WorkflowPath,
} from "../schemas";

/** A workflow's instances as a collection: list, create one or a batch, delete a batch or all. */
export function instancesEndpoints(host: ApiHost): Endpoint[] {
  return [
    endpoint({
      method: "get",
      path: "/api/workflows/{name}/instances",
      summary: "The workflow's instances, newest first unless `order=oldest`, a page at a time, optionally only those with one status",
      params: WorkflowPath,
      query: ListQuery,
      answers: { 200: { description: "a page of instances; `cursor` when more follow", schema: InstanceListAnswer } },
      errors: ["workflow.not_found", "list.invalid_status", "list.invalid_limit", "list.invalid_cursor", "list.invalid_order"],
      handle: async (c, { params: { name }, query: { status, limit, cursor, order } }) => {
        const options: ListOptions = {
          ...(status === undefined ? {} : { status: status as InstanceStatusName }),
          ...(limit === undefined ? {} : { limit }),
          ...(cursor === undefined ? {} : { cursor }),
          ...(order === undefined ? {} : { order }),
        };
        return c.json(await host.client(c.env).workflow(name).list(options));
      },
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances",
      summary: "Creates an instance",
      params: WorkflowPath,
      body: { schema: CreateBody, limit: BODY_BYTES },
      answers: { 201: { description: "the instance's id and status", schema: InstanceStatusAnswer } },
      errors: ["workflow.not_found", "instance.invalid_id", "instance.already_exists", "retention.invalid", "location_hint.invalid", "payload.not_serializable"],
      handle: async (c, { params: { name }, body }) => {
        const instance = await host.client(c.env).workflow(name).create(body as CreateOptions);
        return c.json({ id: instance.id, ...(await instance.status()) }, 201);
      },
    }),
    endpoint({
      method: "delete",
      path: "/api/workflows/{name}/instances",
      summary: "Deletes every instance of the workflow, logs included; the ids can be used again",
      params: WorkflowPath,
      answers: { 200: { description: "how many were deleted", schema: DeletedAllAnswer } },
      errors: ["workflow.not_found"],
      handle: async (c, { params: { name } }) => c.json(await host.client(c.env).workflow(name).deleteAll()),
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances/batch",
      summary: "Creates up to 100 instances: each entry is tried, and each refusal reported with its index",
      params: WorkflowPath,
      body: { schema: BatchCreateBody, limit: BATCH_BODY_BYTES },
      answers: {
        201: { description: "all were created", schema: BatchCreatedAnswer },
        207: { description: "some were refused: `errors` says which and why", schema: BatchCreatedAnswer },
      },
      errors: ["workflow.not_found", "batch.invalid", "instance.invalid_id", "retention.invalid", "location_hint.invalid"],
      handle: async (c, { params: { name }, body }) => {
        // { instances } or { count, ... }: the schema let exactly one form through, and createBatch takes both.
        const { created, errors } = await host.client(c.env).workflow(name).createBatch(body as { instances: CreateOptions[] });
        return c.json({ created: created.map(({ id }) => ({ id })), errors }, errors.length ? 207 : 201);
      },
    }),
    endpoint({
      method: "post",
      path: "/api/workflows/{name}/instances/batch/delete",
      summary: "Deletes up to 100 instances by id: one entry per id given, in `deleted` or in `errors`",
      params: WorkflowPath,
      body: { schema: BatchDeleteBody, limit: BODY_BYTES },
      answers: {
        200: { description: "all were deleted", schema: BatchDeletedAnswer },
        207: { description: "some were refused: `errors` says which and why", schema: BatchDeletedAnswer },
      },
      errors: ["workflow.not_found", "batch.invalid", "instance.invalid_id"],
      handle: async (c, { params: { name }, body: { ids } }) => {
        const result = await host.client(c.env).workflow(name).deleteBatch(ids);
        return c.json(result, result.errors.length ? 207 : 200);
      },
    }),
  ];
}
