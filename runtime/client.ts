import { DurableMachinesError, InvalidEventError, InvalidInstanceIdError, InvalidListCursorError, InvalidListOrderError, InvalidOperationError, ReservedInstanceIdError, show, text } from "../core/errors";
import { assertInstanceId, isInstanceId } from "../core/ids";
import { invalidRestartFrom, kindOf } from "../core/refusals";
import type { SubscribeOptions } from "../core/instance-events";
import type { LogRecord } from "../core/records";
import type { Creation } from "../core/creation";
import { assertLocationHint, type LocationHint } from "../core/location-hint";
import { resolveRetention, type Retention, type RetentionOptions } from "../core/retention";
import type { InstanceSubscription } from "./subscription";
import { INSTANCE_STATUSES, type InstanceStatus, type InstanceStatusName } from "../core/status";
import type { Instant } from "../core/time-travel";
import type { ClientEvent, UntypedWorkflow, WorkflowTypes } from "../core/workflow-types";
import type { WorkflowWatch } from "./workflow-watch";

export interface CreateOptions<TParams = unknown> {
  /** Defaults to a random UUID. */
  id?: string;
  params?: TParams;
  /** How long the instance is kept once it has finished (default: 30 days, or the host's `retention`); then it is deleted as `delete()` does. */
  retention?: RetentionOptions;
  /** Where the instance's Durable Object should start: one of Cloudflare's location hints. The memory host checks it and has no use for it. */
  locationHint?: LocationHint;
}

/** A create call, checked: everything a host needs to create the instance. */
export interface CreateRequest extends Creation {
  id: string;
  locationHint?: LocationHint;
}

/** One of the workflow's events (`{ type, payload? }`), and its idempotency key. */
export type SendEventOptions<TEvent extends ClientEvent = ClientEvent> = TEvent extends ClientEvent
  ? TEvent & {
      /** A second event with the same key is accepted and ignored. */
      idempotencyKey?: string;
    }
  : never;

/** A page of an instance's log. */
export interface HistoryPage {
  records: LogRecord[];
  /** `after` for the next page; absent when this page reached the end of the log */
  next?: number;
}

/** One instance, as Cloudflare's WorkflowInstance shapes it, plus the log; typed by its workflow's events and output. */
export interface InstanceHandle<TTypes extends WorkflowTypes = UntypedWorkflow> {
  readonly id: string;
  status(): Promise<InstanceStatus<TTypes["output"]>>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** With `{ rollback: true }`, a code-first instance first runs the rollback handlers of its started steps, newest first. */
  terminate(options?: { rollback?: boolean }): Promise<void>;
  /**
   * From the start, or `from` a step: its key as history() shows it (`<invoke id>#<n>` for
   * machines, `do:<name>-<n>` for code-first), or Cloudflare's `{ name, count?, type? }`.
   */
  restart(options?: { from?: RestartFrom }): Promise<void>;
  sendEvent(event: SendEventOptions<TTypes["event"]>): Promise<void>;
  /**
   * One page of the log after `after`: at most `limit` records (default 1000, max 1000) and at most
   * MAX_PAGE_BYTES (4 MiB) of record JSON, always at least one record when any is left.
   */
  historyPage(options?: { after?: number; limit?: number }): Promise<HistoryPage>;
  /**
   * The records of one page of the log, oldest first, as historyPage() reads it: it may hold fewer than
   * `limit` records before the end of the log, so read on from its last seq (or use historyPage's `next`).
   */
  history(options?: { after?: number; limit?: number }): Promise<LogRecord[]>;
  /**
   * Time travel: the instance as it stood after record `after` of its log (a seq from 1 to the last), folded by
   * the code recovery folds with: a machine's state value, context and status; a code-first run's step results and status.
   */
  stateAfter(after: number): Promise<Instant>;
  /** Cloudflare's subscription: the log as its instance events, from `cursor`, live, until the run ends. */
  subscribe(options?: SubscribeOptions): Promise<InstanceSubscription>;
  /** Wipes the instance, its log included, and stops its work; the id can be used again. */
  delete(): Promise<void>;
}

/** Cloudflare's way to name a step to restart from: its name, occurrence (default 1) and type (default "do"). */
export type RestartFrom = string | { name: string; count?: number; type?: "do" | "sleep" | "waitForEvent" };

const RESTART_TYPES: readonly unknown[] = ["do", "sleep", "waitForEvent"];

/** The log key of a step named either way; a `from` of any other form is refused with restart.invalid_from. */
export function restartKey(from: RestartFrom): string {
  if (typeof from === "string") return from;
  if (typeof from !== "object" || from === null || Array.isArray(from)) throw invalidRestartFrom(`got ${kindOf(from)}`);
  const { name, count = 1, type = "do" } = from as { name?: unknown; count?: unknown; type?: unknown };
  if (typeof name !== "string") throw invalidRestartFrom(`its name is ${kindOf(name)}`);
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1) throw invalidRestartFrom(`its count is ${kindOf(count)}`);
  if (!RESTART_TYPES.includes(type)) throw invalidRestartFrom(`its type is ${typeof type === "string" ? show(type) : kindOf(type)}`);
  return `${type as string}:${name}-${count}`;
}

export interface BatchError {
  index: number;
  id?: string;
  code: string;
  message: string;
}

export interface InstanceSummary {
  id: string;
  status: InstanceStatusName;
  createdAt: number;
  /** When the instance last changed (its last record). */
  updatedAt: number;
}

/** The orders list() can page in: by creation time, the id breaking ties. */
export const LIST_ORDERS = ["newest", "oldest"] as const;
export type ListOrder = (typeof LIST_ORDERS)[number];

export interface ListOptions {
  status?: InstanceStatusName;
  limit?: number;
  /** The `cursor` of the previous page, given with the same order. */
  cursor?: string;
  /**
   * "newest" (the default): the newest created first; "oldest": the oldest first. Instances created in the same
   * millisecond follow their ids (descending for "newest", so one order is exactly the other reversed). A cursor
   * marks where its page ended, so instances created or deleted while a client pages neither repeat nor shift a page.
   */
  order?: ListOrder;
}

/** Where a page ended: the next page holds the instances after this one in the list's order. */
export interface ListPosition {
  createdAt: number;
  id: string;
}

/** list() options, checked: what a host's index is asked for. */
export interface ListQuery {
  status?: InstanceStatusName;
  limit: number;
  order: ListOrder;
  after?: ListPosition;
}

/** One workflow, as Cloudflare's Workflow binding shapes it, plus listing by status; typed by the workflow's params, events and output. */
export interface WorkflowClient<TTypes extends WorkflowTypes = UntypedWorkflow> {
  create(options?: CreateOptions<TTypes["params"]>): Promise<InstanceHandle<TTypes>>;
  /** Cloudflare's batch forms: every instance is tried, and each refusal is reported with its index; or `count` instances with random ids. */
  createBatch(
    batch: { instances: CreateOptions<TTypes["params"]>[] } | ({ count: number } & Pick<CreateOptions<TTypes["params"]>, "params" | "retention" | "locationHint">),
  ): Promise<{ created: InstanceHandle<TTypes>[]; errors: BatchError[] }>;
  /** Cloudflare's older form: only the created instances come back; duplicates and refusals are skipped. */
  createBatch(instances: CreateOptions<TTypes["params"]>[]): Promise<InstanceHandle<TTypes>[]>;
  /** Deletes up to 100 instances; one entry per id given, in `deleted` or in `errors`. */
  deleteBatch(ids: string[]): Promise<{ deleted: { id: string }[]; errors: { id: string; code: string; message: string }[] }>;
  get(id: string): Promise<InstanceHandle<TTypes>>;
  list(options?: ListOptions): Promise<{ instances: InstanceSummary[]; cursor?: string }>;
  /** How many instances have each status; every status is there, 0 when none has it. */
  counts(): Promise<Record<InstanceStatusName, number>>;
  /** Deletes every instance of the workflow, as delete() does each; the ids can be used again. */
  deleteAll(): Promise<{ deleted: number }>;
  /**
   * Watches the workflow's instances live: a `sync` with the counts first, then each instance created, each change of
   * status and each deletion, as the host makes them, until disposed. Nothing polls: on the Durable Object host the
   * workflow's registry tells each watch over a hibernatable socket.
   */
  watch(): Promise<WorkflowWatch>;
}

export const MAX_BATCH = 100;
export const DEFAULT_HISTORY_LIMIT = 1000;
/** The most records a history page holds. */
export const MAX_HISTORY_LIMIT = 1000;
/** The most record JSON a history page holds, in UTF-8 bytes, so that a page crosses workerd's 32 MiB RPC limit with room to spare. */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;
export const MAX_LIST_LIMIT = 1000;

/**
 * Checks create options as Cloudflare does: the id (a random UUID when none
 * is given), the retention, filled in from the host's `retention`, and the
 * location hint. A refusal throws before anything is created.
 */
export function createRequest(options: unknown, retention: Retention): CreateRequest {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOperationError("request.invalid", `Create options must be an object like { id?, params? }; got ${options === null ? "null" : typeof options}.`);
  }
  const given = options as CreateOptions;
  const resolved = resolveRetention(given.retention, retention);
  assertLocationHint(given.locationHint);
  const id = given.id === undefined ? crypto.randomUUID() : given.id;
  assertInstanceId(id);
  return { id, params: given.params, retention: resolved, ...(given.locationHint === undefined ? {} : { locationHint: given.locationHint }) };
}

/** Cloudflare refuses a whole batch when one entry's retention or location hint is bad, before creating any. */
function checkBatchOptions(batch: unknown[]): void {
  for (const options of batch) {
    if (typeof options !== "object" || options === null) continue;
    const { retention, locationHint } = options as CreateOptions;
    resolveRetention(retention);
    assertLocationHint(locationHint);
  }
}

/**
 * Ids Cloudflare refuses in a `createBatch({ instances })`, though create() and the older array form take them:
 * the rule of its engine's createBatch (https://github.com/cloudflare/workers-sdk/blob/main/packages/workflows-shared/src/binding.ts,
 * as published in @cloudflare/workflows-shared 0.15.3), which test/conformance.test.ts compares with ours.
 */
const RESERVED_IN_BATCH = /^(batch|terminate|terminateAll|cf_[0-9a-f]{64})$/;

type Creates = (options: CreateOptions<unknown>) => Promise<InstanceHandle>;

/** Every form of Cloudflare's `createBatch`, over one way to create an instance. */
export async function createInBatch(input: unknown, create: Creates): Promise<{ created: InstanceHandle[]; errors: BatchError[] } | InstanceHandle[]> {
  const legacy = Array.isArray(input);
  const request = input as ({ instances?: unknown; count?: unknown } & CreateOptions) | undefined;
  let batch: unknown[];
  if (legacy) batch = input;
  else if (typeof request === "object" && request !== null && "count" in request) {
    // Checked before the entries are built: a count of a billion would otherwise allocate them all first.
    if (!Number.isInteger(request.count) || (request.count as number) < 1 || (request.count as number) > MAX_BATCH) {
      throw new InvalidOperationError("batch.invalid", `count must be a whole number from 1 to ${MAX_BATCH}; got ${typeof request.count === "number" ? request.count : typeof request.count}.`);
    }
    const { params, retention, locationHint } = request;
    batch = Array.from({ length: request.count as number }, () => ({ params, retention, locationHint }));
  } else batch = request?.instances as unknown[];
  if (!Array.isArray(batch) || batch.length === 0 || batch.length > MAX_BATCH) {
    throw new InvalidOperationError("batch.invalid", `A batch holds 1 to ${MAX_BATCH} instances; got ${Array.isArray(batch) ? batch.length : "no list"}.`);
  }
  if (!legacy) checkBatchOptions(batch);
  const seen = new Set<unknown>();
  const results = await Promise.all(
    batch.map(async (options, index) => {
      const id = (options as { id?: unknown } | null)?.id;
      try {
        // Reported at its position, as any invalid id is here (Cloudflare refuses the whole batch: docs/cloudflare-compat.md).
        if (!legacy && typeof id === "string" && RESERVED_IN_BATCH.test(id)) throw new ReservedInstanceIdError(id);
        if (id !== undefined && seen.has(id)) throw new DurableMachinesError("instance.duplicate_in_batch", `Instance id ${show(id)} appears twice in the batch; the first was created.`);
        seen.add(id ?? Symbol());
        return await create(options as CreateOptions<unknown>);
      } catch (error) {
        if (!(error instanceof DurableMachinesError)) throw error;
        return { index, ...(typeof id === "string" ? { id } : {}), code: error.code, message: error.message } satisfies BatchError;
      }
    }),
  );
  const created = results.filter((r): r is InstanceHandle => "status" in r);
  return legacy ? created : { created, errors: results.filter((r): r is BatchError => "code" in r) };
}

/** An event as sendEvent() takes it: an object, whatever its fields (the instance checks them). */
export function eventOptions(event: unknown): SendEventOptions {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new InvalidEventError(`sendEvent() takes an object like { type, payload?, idempotencyKey? }; got ${show(event)}.`);
  }
  return event as SendEventOptions;
}

/** List options checked the same way on every host, before any host reads its index. */
export function listOptions(options: unknown): ListQuery {
  if (typeof options !== "object" || options === null) throw new InvalidOperationError("list.invalid", `list() takes an object like { status?, limit?, cursor?, order? }; got ${show(options)}.`);
  const { status, limit = 100, cursor, order = "newest" } = options as ListOptions;
  if (status !== undefined && !INSTANCE_STATUSES.includes(status)) {
    throw new InvalidOperationError("list.invalid_status", `Unknown status ${show(status)}; use one of ${INSTANCE_STATUSES.join(", ")}.`);
  }
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidOperationError("list.invalid_limit", `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}; got ${show(limit)}.`);
  if (!LIST_ORDERS.includes(order)) throw new InvalidListOrderError(order);
  return {
    limit: Math.min(limit, MAX_LIST_LIMIT),
    order,
    ...(status === undefined ? {} : { status }),
    ...(cursor === undefined ? {} : { after: cursorPosition(cursor, order) }),
  };
}

/**
 * A cursor is `<order>:<createdAt>:<id>`, the last instance of its page: ids hold no ":" and a number's text none
 * either. It names the order so that a cursor given with the other order is refused rather than paging nonsense.
 */
function pageCursor(order: ListOrder, last: InstanceSummary): string {
  return `${order}:${last.createdAt}:${last.id}`;
}

function cursorPosition(cursor: unknown, order: ListOrder): ListPosition {
  if (typeof cursor !== "string") throw new InvalidListCursorError(`cursor must be the string a previous list() returned; got ${show(cursor)}.`);
  const [given, at, id, ...rest] = cursor.split(":");
  const createdAt = Number(at);
  if (rest.length || !LIST_ORDERS.includes(given as ListOrder) || !Number.isFinite(createdAt) || String(createdAt) !== at || !isInstanceId(id)) {
    throw new InvalidListCursorError(`Cursor ${show(cursor.length > 130 ? `${cursor.slice(0, 130)}…` : cursor)} is not one list() returned.`);
  }
  if (given !== order) throw new InvalidListCursorError(`This cursor continues a list in "${given}" order, and this list() asks for "${order}".`);
  return { createdAt, id };
}

/** How a list in `order` sorts two instances: by creation time, then id. */
export function listComparator(order: ListOrder): (a: ListPosition, b: ListPosition) => number {
  const sign = order === "newest" ? -1 : 1;
  return (a, b) => sign * (a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A page from the instances a host found after the query's position in its order, at most `limit + 1` of them (the one more tells that more follow). */
export function listPage(query: ListQuery, found: readonly InstanceSummary[]): { instances: InstanceSummary[]; cursor?: string } {
  const instances = found.slice(0, query.limit);
  return found.length > query.limit ? { instances, cursor: pageCursor(query.order, instances.at(-1)!) } : { instances };
}

/** Every status, with the count given for it or 0. */
export function statusCounts(counted: Partial<Record<InstanceStatusName, number>>): Record<InstanceStatusName, number> {
  return Object.fromEntries(INSTANCE_STATUSES.map((status) => [status, counted[status] ?? 0])) as Record<InstanceStatusName, number>;
}

/** Deletes every instance `list` shows, a page at a time; `remove` answers whether the id was there to delete. */
export async function deleteEvery(list: WorkflowClient["list"], remove: (id: string) => Promise<boolean>): Promise<{ deleted: number }> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await list({ limit: MAX_BATCH, ...(cursor === undefined ? {} : { cursor }) });
    const removed = await Promise.all(page.instances.map(({ id }) => remove(id)));
    deleted += removed.filter(Boolean).length;
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { deleted };
}

/** Cloudflare's `deleteBatch`: one entry per id given, a repeated id deleted once and reported each time. */
export async function deleteInBatch(ids: unknown, remove: (id: string) => Promise<void>) {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BATCH) throw new InvalidOperationError("batch.invalid", `deleteBatch takes 1 to ${MAX_BATCH} ids.`);
  const removals = new Map<string, Promise<void>>();
  const outcomes = await Promise.all(
    ids.map(async (id: unknown) => {
      try {
        if (typeof id !== "string") throw new InvalidInstanceIdError(id);
        if (!removals.has(id)) removals.set(id, remove(id));
        await removals.get(id);
        return { id, ok: true as const };
      } catch (error) {
        if (!(error instanceof DurableMachinesError)) throw error;
        return { id: text(id), ok: false as const, code: error.code, message: error.message };
      }
    }),
  );
  return {
    deleted: outcomes.filter((o) => o.ok).map(({ id }) => ({ id })),
    errors: outcomes.flatMap((o) => (o.ok ? [] : [{ id: o.id, code: o.code, message: o.message }])),
  };
}
