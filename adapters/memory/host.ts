import type { AnyWorkflowDefinition } from "../../core/definition";
import { DurableMachinesError, InstanceExistsError, InstanceNotFoundError, NotPythonError } from "../../core/errors";
import { assertInstanceId } from "../../core/ids";
import type { LogRecord } from "../../core/records";
import { resolveRetention, type RetentionOptions } from "../../core/retention";
import type { CronFiring } from "../../core/schedule";
import {
  createInBatch,
  createRequest,
  deleteInBatch,
  eventOptions,
  listComparator,
  listOptions,
  listPage,
  restartKey,
  statusCounts,
  type CreateOptions,
  type CreateRequest,
  type InstanceHandle,
  type InstanceSummary,
  type WorkflowClient,
} from "../../runtime/client";
import { systemClock, type Clock } from "../../runtime/clock";
import type { DriverOptions } from "../../runtime/driver";
import { createInstance, loadInstance, type HostedInstance, type InstanceSummaryState } from "../../runtime/hosted";
import { WorkflowCatalog } from "../../runtime/catalog";
import { fireSchedule, type ScheduledInstance } from "../../runtime/schedules";
import { readHistoryPage } from "../../runtime/history-pages";
import { subscribe, type AppendBell } from "../../runtime/subscription";
import { RemoteCodeDriver } from "../../runtime/remote-driver";
import { waitDeadline, type PythonWorkers, type WireTask } from "../../runtime/python-workers";
import { Waiters } from "../../runtime/waiters";
import { TEST_HOOKS, TestHookTable } from "../../runtime/test-hooks";
import type { RegistryOf, UntypedRegistry, WorkflowName, WorkflowRegistry } from "../../runtime/typed-client";
import { ChangeQueue } from "../../runtime/change-queue";
import type { StatusCounts, WorkflowChange } from "../../runtime/workflow-watch";
import { MemoryStorage } from "./storage";

export interface MemoryHostOptions<TDefinition extends AnyWorkflowDefinition = AnyWorkflowDefinition> {
  /** What the host serves; their names and types type `workflow(name)`. */
  workflows: readonly TDefinition[];
  clock?: Clock;
  /** Share one storage between hosts to model a process that restarts on the same disk. */
  storage?: MemoryStorage;
  snapshotEvery?: number;
  /** Handed to every step body as `env`. */
  env?: unknown;
  onActionError?: DriverOptions["onActionError"];
  /** How long finished instances are kept when create() does not say: 30 days unless set. */
  retention?: RetentionOptions;
  /** Limits on code-first steps' ReadableStream outputs; Cloudflare's (16 MiB a chunk, 1 GiB an instance) when unset. */
  streamLimits?: DriverOptions["streamLimits"];
}

/** The host; `TRegistry` (from the definitions it was given) types each workflow's client. */
export interface MemoryHost<TRegistry extends WorkflowRegistry = UntypedRegistry> {
  workflow<TName extends WorkflowName<TRegistry>>(name: TName): WorkflowClient<TRegistry[TName]>;
  readonly storage: MemoryStorage;
  /** What durable-machines/testing sets on this host's instances (mocked steps, skipped sleeps, events). */
  readonly [TEST_HOOKS]: TestHookTable;
  /** Drops every in-memory object, as a process crash would, then rebuilds each unfinished instance from its log alone. */
  crash(): void;
  /** Settles once no step attempt runs anywhere in the host. */
  idle(): Promise<void>;
  /** A cron trigger fired: creates an instance of every workflow whose `schedules` list `cron`, once per firing however often it is delivered. */
  fireSchedule(firing: CronFiring): Promise<ScheduledInstance[]>;
  /** The engine's side of the Python worker protocol for a workflow served by Python (docs/python-protocol.md). */
  python(workflow: string): PythonWorkers;
}

/**
 * Runs workflows in-process, over in-memory storage and an injectable clock:
 * for tests, property tests, and embedding the engine in Node.
 */
export function createMemoryHost<TDefinition extends AnyWorkflowDefinition>(options: MemoryHostOptions<TDefinition>): MemoryHost<RegistryOf<TDefinition>> {
  const catalog = new WorkflowCatalog(options.workflows);
  const clock = options.clock ?? systemClock;
  const storage = options.storage ?? new MemoryStorage();
  const retention = resolveRetention(options.retention);
  /** What durable-machines/testing sets on this host's instances; empty unless a test attaches. */
  const testHooks = new TestHookTable();
  const driverOptions: DriverOptions = {
    snapshotEvery: options.snapshotEvery ?? 100,
    env: options.env ?? {},
    onActionError: options.onActionError,
    streamLimits: options.streamLimits,
    onExpired: ({ workflow, instanceId }) => remove(workflow, instanceId),
    onAppend: (records, summary) => {
      ring(summary.workflow, summary.instanceId);
      noteStatus(summary, records.some((record) => record.type === "instance.created"));
    },
    onWanted: (workflow) => claiming.get(workflow)?.wakeAll(),
    testHooks,
  };
  /** Claims waiting for an instance of each workflow to want a worker. */
  const claiming = new Map<string, Waiters>();
  let drivers = new Map<string, HostedInstance>();

  const slot = (workflow: string, id: string) => `${workflow}\u0000${id}`;

  /** The subscriptions waiting for each instance's next append, by slot: its driver's appends wake them in the same turn, and so does its deletion. */
  const listening = new Map<string, Set<() => void>>();
  const ring = (workflow: string, id: string) => {
    for (const wake of listening.get(slot(workflow, id)) ?? []) wake();
  };

  function appendBell(workflow: string, id: string): AppendBell {
    const key = slot(workflow, id);
    const waiting: (() => void)[] = [];
    const wake = () => {
      for (const resolve of waiting.splice(0)) resolve();
    };
    const listeners = listening.get(key) ?? new Set();
    listening.set(key, listeners.add(wake));
    return {
      async after(seq) {
        // Gone or not loaded: the subscription's next read reports it, or loads it.
        const known = drivers.get(key);
        if (!listeners.has(wake) || !known || known.summary().seq > seq) return;
        await new Promise<void>((resolve) => waiting.push(resolve));
      },
      close() {
        listeners.delete(wake);
        if (!listeners.size && listening.get(key) === listeners) listening.delete(key);
        wake();
      },
    };
  }

  /**
   * What the watches of each workflow are told, as the registry object tells
   * them on the Durable Object host: the status of every instance loaded, by
   * slot, and the watches open. A workflow's first watch loads all its
   * instances, so that while any watches, the counts come from here.
   */
  const statuses = new Map<string, InstanceSummaryState>();
  const watches = new Map<string, Set<ChangeQueue>>();

  function countsOf(workflow: string): StatusCounts {
    const counts = statusCounts({});
    for (const summary of statuses.values()) if (summary.workflow === workflow) counts[summary.status] += 1;
    return counts;
  }

  function tell(workflow: string, change: (counts: StatusCounts) => WorkflowChange): void {
    const open = watches.get(workflow);
    if (!open?.size) return;
    const told = change(countsOf(workflow));
    for (const watch of open) watch.push(told);
  }

  /** An instance's status now; a change (or its creation) is told to the workflow's watches. */
  function noteStatus(summary: InstanceSummaryState, created: boolean): void {
    const key = slot(summary.workflow, summary.instanceId);
    const before = statuses.get(key);
    statuses.set(key, summary);
    if (before?.status === summary.status && !created) return;
    const { instanceId: id, status, createdAt, updatedAt } = summary;
    tell(summary.workflow, (counts) => ({ type: created ? "created" : "updated", instance: { id, status, createdAt, updatedAt }, counts }));
  }

  function load(workflow: string, id: string): HostedInstance {
    const known = drivers.get(slot(workflow, id));
    if (known) return known;
    if (!storage.has(workflow, id)) throw new InstanceNotFoundError(workflow, id);
    const store = storage.store(workflow, id);
    const [created] = store.read({ limit: 1 }) as [LogRecord<"instance.created">];
    const def = catalog.pinned(workflow, id, created.data.definitionHash);
    const driver = loadInstance(def, store, clock, driverOptions);
    drivers.set(slot(workflow, id), driver);
    statuses.set(slot(workflow, id), driver.summary());
    return driver;
  }

  function handle(workflow: string, id: string): InstanceHandle {
    const driver = () => load(workflow, id);
    return {
      id,
      status: async () => driver().status(),
      pause: async () => driver().command({ type: "pause" }),
      resume: async () => void driver().command({ type: "resume" }),
      terminate: async (options = {}) => driver().command({ type: "terminate", ...(options.rollback ? { rollback: true } : {}) }),
      restart: async (restart = {}) => driver().command({ type: "restart", ...(restart.from === undefined ? {} : { from: restartKey(restart.from) }) }),
      sendEvent: async (event) => {
        const { type, payload, idempotencyKey } = eventOptions(event);
        driver().command({ type: "event", event: type, payload, idempotencyKey });
      },
      historyPage: async (options) => readHistoryPage(driver(), options),
      history: async (options) => readHistoryPage(driver(), options).records,
      stateAfter: async (after) => driver().stateAfter(after),
      subscribe: async (options) =>
        subscribe(
          id,
          async (after) => readHistoryPage(driver(), { after }).records,
          async (key, attempt, index) => storage.store(workflow, id).chunks.read(key, attempt, index),
          (hash) => catalog.pinned(workflow, id, hash).kind === "code",
          () => appendBell(workflow, id),
          options,
        ),
      delete: async () => remove(workflow, id),
    };
  }

  function createOne(workflow: string, request: CreateRequest): InstanceHandle {
    const def = catalog.latest(workflow);
    const { id, ...creation } = request;
    if (storage.has(workflow, id)) throw new InstanceExistsError(workflow, id);
    const driver = createInstance(def, storage.store(workflow, id), clock, driverOptions, id, creation);
    drivers.set(slot(workflow, id), driver);
    return handle(workflow, id);
  }

  function remove(workflow: string, id: string): void {
    assertInstanceId(id);
    if (!storage.has(workflow, id)) throw new InstanceNotFoundError(workflow, id);
    drivers.get(slot(workflow, id))?.dispose();
    drivers.delete(slot(workflow, id));
    storage.remove(workflow, id);
    statuses.delete(slot(workflow, id));
    ring(workflow, id);
    tell(workflow, (counts) => ({ type: "deleted", id, counts }));
  }

  function client(workflow: string): WorkflowClient {
    catalog.latest(workflow);
    return {
      create: async (options: CreateOptions = {}) => createOne(workflow, createRequest(options, retention)),
      createBatch: ((input: unknown) => createInBatch(input, async (options) => createOne(workflow, createRequest(options, retention)))) as WorkflowClient["createBatch"],
      deleteBatch: (ids) => deleteInBatch(ids, async (id) => remove(workflow, id)),
      async get(id) {
        assertInstanceId(id);
        load(workflow, id);
        return handle(workflow, id);
      },
      async list(options = {}) {
        const query = listOptions(options);
        const { status, after } = query;
        const inOrder = listComparator(query.order);
        const found: InstanceSummary[] = storage
          .ids(workflow)
          .map((id) => {
            const { status, createdAt, updatedAt } = load(workflow, id).summary();
            return { id, status, createdAt, updatedAt };
          })
          .filter((summary) => (status === undefined || summary.status === status) && (after === undefined || inOrder(after, summary) < 0))
          .sort(inOrder);
        return listPage(query, found.slice(0, query.limit + 1));
      },
      async counts() {
        const counts = statusCounts({});
        for (const id of storage.ids(workflow)) counts[load(workflow, id).summary().status] += 1;
        return counts;
      },
      async deleteAll() {
        const ids = storage.ids(workflow);
        for (const id of ids) remove(workflow, id);
        return { deleted: ids.length };
      },
      async watch() {
        for (const id of storage.ids(workflow)) load(workflow, id);
        const open = watches.get(workflow) ?? new Set();
        watches.set(workflow, open);
        const watch = new ChangeQueue(() => open.delete(watch));
        open.add(watch);
        watch.push({ type: "sync", counts: countsOf(workflow) });
        return watch;
      },
    };
  }

  return {
    // The registry is a type only: at run time, every name is checked against the catalog.
    workflow: client as MemoryHost<RegistryOf<TDefinition>>["workflow"],
    storage,
    [TEST_HOOKS]: testHooks,
    crash() {
      for (const driver of drivers.values()) driver.dispose();
      drivers = new Map();
      statuses.clear();
      for (const { workflow, id } of storage.all()) {
        try {
          load(workflow, id);
        } catch (error) {
          // An instance whose definition is gone stays in storage and reports that error when asked for.
          if (!(error instanceof DurableMachinesError)) throw error;
        }
      }
    },
    python(workflow) {
      const def = catalog.latest(workflow);
      if (def.kind !== "code" || !def.python) throw new NotPythonError(workflow);
      const remote = (id: string) => {
        const driver = load(workflow, id);
        if (!(driver instanceof RemoteCodeDriver)) throw new NotPythonError(workflow);
        return driver;
      };
      const claimNow = (): WireTask | undefined => {
        for (const [key, driver] of drivers) {
          if (!key.startsWith(slot(workflow, "")) || !(driver instanceof RemoteCodeDriver)) continue;
          const task = driver.claim();
          if (task) return task;
        }
        return undefined;
      };
      return {
        async claim(_worker, waitMs) {
          const deadline = waitDeadline(clock.now(), waitMs);
          const waiting = claiming.get(workflow) ?? new Waiters(clock);
          claiming.set(workflow, waiting);
          for (;;) {
            const task = claimNow();
            if (task || clock.now() >= deadline) return task;
            await waiting.until(deadline);
          }
        },
        calls: async (id, lease, calls) => remote(id).calls(lease, calls),
        heartbeat: (id, lease, waitMs) => remote(id).heartbeat(lease, waitMs),
        release: async (id, lease) => remote(id).release(lease),
      };
    },
    fireSchedule: (firing) => fireSchedule(catalog, firing, retention, async (workflow, request) => createOne(workflow, request)),
    async idle() {
      for (;;) {
        const busy = [...drivers.values()];
        await Promise.all(busy.map((driver) => driver.idle()));
        if (busy.every((driver) => driver.idleNow())) return;
      }
    },
  };
}
