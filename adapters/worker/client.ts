import { DurableMachinesError, InstanceNotFoundError, NotPythonError } from "../../core/errors";
import { assertInstanceId } from "../../core/ids";
import { toJson } from "../../core/json";
import type { Creation } from "../../core/creation";
import type { LocationHint } from "../../core/location-hint";
import type { Retention } from "../../core/retention";
import type { CronFiring } from "../../core/schedule";
import type { InstanceStatus, InstanceStatusName } from "../../core/status";
import type { Instant } from "../../core/time-travel";
import type { WorkflowCatalog } from "../../runtime/catalog";
import { createInBatch, createRequest, deleteEvery, deleteInBatch, eventOptions, listOptions, listPage, restartKey, statusCounts, type CreateOptions, type HistoryPage, type CreateRequest, type InstanceHandle, type InstanceSummary, type ListQuery, type WorkflowClient } from "../../runtime/client";
import { fireSchedule, type ScheduledInstance } from "../../runtime/schedules";
import { subscribe } from "../../runtime/subscription";
import { unwrap, type Outcome } from "../../runtime/wire";
import { MAX_WAIT_MS, type CallsAnswer, type HeartbeatAnswer, type PythonWorkers, type WireCall, type WireTask } from "../../runtime/python-workers";
import type { InstanceCommand } from "../durable-object/instance-object";
import type { ClaimQueueStub } from "../durable-object/claim-queue";
import { SUBSCRIBER_PATH } from "../durable-object/subscriber-sockets";
import { WATCH_PATH } from "../durable-object/registry-watches";
import { subscriberBell } from "./subscriber-bell";
import { watchRegistry } from "./registry-watch";
import type { UntypedRegistry, WorkflowName, WorkflowRegistry } from "../../runtime/typed-client";

export interface Bindings {
  instances: string;
  registry: string;
}

/** What the Worker calls on an instance's object. */
export interface InstanceStub {
  create(workflow: string, id: string, creation: Creation): Promise<Outcome<InstanceStatus>>;
  status(workflow: string, id: string): Promise<Outcome<InstanceStatus>>;
  command(workflow: string, id: string, command: InstanceCommand): Promise<Outcome<InstanceStatus>>;
  /** One page of the log, bounded by count and bytes (see InstanceHandle.historyPage). */
  history(workflow: string, id: string, range: { after?: number; limit?: number }): Promise<Outcome<HistoryPage>>;
  /** Time travel: the instance after record `after`, folded in the object from its newest snapshot at or before it. */
  stateAfter(workflow: string, id: string, after: number): Promise<Outcome<Instant>>;
  streamChunk(workflow: string, id: string, key: string, attempt: number, index: number): Promise<Outcome<Uint8Array | null>>;
  footprint(): Promise<{ log: number; snapshots: number; records: number }>;
  remove(workflow: string, id: string): Promise<Outcome<void>>;
  /** The Python worker protocol, for an instance of a workflow Python serves (docs/python-protocol.md). */
  claim(workflow: string, id: string): Promise<Outcome<WireTask | null>>;
  pythonCalls(workflow: string, id: string, lease: string, calls: readonly WireCall[]): Promise<Outcome<CallsAnswer>>;
  heartbeat(workflow: string, id: string, lease: string, waitMs: number): Promise<Outcome<HeartbeatAnswer>>;
  release(workflow: string, id: string, lease: string): Promise<Outcome<Awaited<ReturnType<PythonWorkers["release"]>>>>;
  /** The live inspection socket (a WebSocket upgrade). */
  fetch(request: Request): Promise<Response>;
}

interface RegistryStub extends ClaimQueueStub {
  list(query: ListQuery): Promise<InstanceSummary[]>;
  counts(): Promise<Partial<Record<InstanceStatusName, number>>>;
  /** A watch's socket (a WebSocket upgrade at WATCH_PATH). */
  fetch(request: Request): Promise<Response>;
}

/** The client of a Worker's workflows; `TRegistry` (from the definitions given to createWorkflows) types each workflow's client. */
export interface WorkersClient<TRegistry extends WorkflowRegistry = UntypedRegistry> {
  workflow<TName extends WorkflowName<TRegistry>>(name: TName): WorkflowClient<TRegistry[TName]>;
  /** The stub of an instance's object, for tests and tools that need the object itself. */
  stub(workflow: string, id: string): InstanceStub;
  /** A cron trigger fired: creates an instance of every workflow whose `schedules` list `cron`, once per firing however often it is delivered. */
  fireSchedule(firing: CronFiring): Promise<ScheduledInstance[]>;
  /** The engine's side of the Python worker protocol for a workflow served by Python (docs/python-protocol.md). */
  python(workflow: string): PythonWorkers;
}

/** The client a Worker uses: the same shape as the memory host's, over the Durable Object host. */
export function createClient(env: Record<string, unknown>, catalog: WorkflowCatalog, bindings: Bindings, retention: Retention): WorkersClient {
  const instances = env[bindings.instances] as DurableObjectNamespace | undefined;
  const registries = env[bindings.registry] as DurableObjectNamespace | undefined;
  if (!instances || !registries) {
    throw new DurableMachinesError(
      "host.not_configured",
      `The Worker has no Durable Object bindings "${bindings.instances}" and "${bindings.registry}"; declare both in wrangler.toml (see the README).`,
    );
  }
  /** A location hint only matters where the object is first made: at create. */
  const stub = (workflow: string, id: string, locationHint?: LocationHint) => {
    const objectId = instances.idFromName(`${workflow}/${id}`);
    return (locationHint === undefined ? instances.get(objectId) : instances.get(objectId, { locationHint })) as unknown as InstanceStub;
  };

  /** A stub per call: once an object is reset, stubs that reached it stay broken. */
  function handle(workflow: string, id: string): InstanceHandle {
    const object = () => stub(workflow, id);
    const command = async (command: InstanceCommand) => void unwrap(await object().command(workflow, id, command));
    const historyPage = async (options: { after?: number; limit?: number } = {}) => unwrap(await object().history(workflow, id, options));
    return {
      id,
      status: async () => unwrap(await object().status(workflow, id)),
      pause: () => command({ type: "pause" }),
      resume: () => command({ type: "resume" }),
      terminate: (options = {}) => command({ type: "terminate", ...(options.rollback ? { rollback: true } : {}) }),
      restart: (options = {}) => command(options.from === undefined ? { type: "restart" } : { type: "restart", from: restartKey(options.from) }),
      sendEvent: async (event) => {
        const { type, payload, idempotencyKey } = eventOptions(event);
        await command({ type: "event", event: type, payload: toJson(payload, "the event payload"), ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
      },
      historyPage,
      history: async (options) => (await historyPage(options)).records,
      stateAfter: async (after) => unwrap(await object().stateAfter(workflow, id, after)),
      subscribe: async (options) =>
        subscribe(
          id,
          async (after) => (await historyPage({ after })).records,
          async (key, attempt, index) => unwrap(await object().streamChunk(workflow, id, key, attempt, index)) ?? undefined,
          (hash) => catalog.pinned(workflow, id, hash).kind === "code",
          () => subscriberBell(() => object().fetch(subscriberRequest(workflow, id))),
          options,
        ),
      delete: () => remove(workflow, id),
    };
  }

  /** The upgrade that opens a subscription's bell on the instance's object. */
  function subscriberRequest(workflow: string, id: string): Request {
    const url = new URL(SUBSCRIBER_PATH, "https://instance");
    url.searchParams.append("instance", workflow);
    url.searchParams.append("instance", id);
    return new Request(url, { headers: { upgrade: "websocket" } });
  }

  /** The upgrade that opens a watch's socket on the workflow's registry object; the name is for its messages. */
  function watchRequest(workflow: string): Request {
    const url = new URL(WATCH_PATH, "https://registry");
    url.searchParams.set("workflow", workflow);
    return new Request(url, { headers: { upgrade: "websocket" } });
  }

  async function remove(workflow: string, id: string): Promise<void> {
    assertInstanceId(id);
    unwrap(await stub(workflow, id).remove(workflow, id));
  }

  async function create(workflow: string, request: CreateRequest): Promise<InstanceHandle> {
    catalog.latest(workflow);
    const { id, locationHint, ...creation } = request;
    unwrap(await stub(workflow, id, locationHint).create(workflow, id, { ...creation, params: toJson(creation.params, "params") }));
    return handle(workflow, id);
  }

  const registryOf = (workflow: string) => registries.get(registries.idFromName(workflow)) as unknown as RegistryStub;

  function workflow(name: string): WorkflowClient {
    catalog.latest(name);
    const registry = () => registryOf(name);
    const list: WorkflowClient["list"] = async (options = {}) => {
      const query = listOptions(options);
      return listPage(query, await registry().list(query));
    };
    return {
      create: async (options: CreateOptions = {}) => create(name, createRequest(options, retention)),
      createBatch: ((input: unknown) => createInBatch(input, async (options) => create(name, createRequest(options, retention)))) as WorkflowClient["createBatch"],
      deleteBatch: (ids) => deleteInBatch(ids, (id) => remove(name, id)),
      async get(id) {
        assertInstanceId(id);
        unwrap(await stub(name, id).status(name, id));
        return handle(name, id);
      },
      list,
      counts: async () => statusCounts(await registry().counts()),
      watch: () => watchRegistry(() => registry().fetch(watchRequest(name))),
      deleteAll: () =>
        deleteEvery(list, async (id) => {
          try {
            await remove(name, id);
            return true;
          } catch (error) {
            // Listed but gone: the object has had the registry forget the id, in order with its own reports, before answering.
            if (!(error instanceof InstanceNotFoundError)) throw error;
            return false;
          }
        }),
    };
  }

  /**
   * A claim takes the oldest instance the workflow's registry has queued as
   * wanting a worker (waiting for one to be queued, up to the claim's wait)
   * and asks its object for the task. An instance that no longer wants a
   * worker (claimed since, finished, deleted, or refusing) is skipped and
   * the claim goes on with the next one.
   */
  function python(name: string): PythonWorkers {
    const def = catalog.latest(name);
    if (def.kind !== "code" || !def.python) throw new NotPythonError(name);
    const object = (id: string) => {
      assertInstanceId(id);
      return stub(name, id);
    };
    return {
      async claim(_worker, waitMs) {
        const deadline = Date.now() + Math.min(Math.max(0, waitMs), MAX_WAIT_MS);
        for (;;) {
          const id = await registryOf(name).next(Math.max(0, deadline - Date.now()));
          if (id === null) return undefined;
          try {
            const outcome = await stub(name, id).claim(name, id);
            if (outcome.ok && outcome.value) return outcome.value;
          } catch (error) {
            // The object failed (a bug, a reset): another instance may still be claimed. It queues itself again while it wants a worker.
            console.error(`durable-machines: claiming ${name}/${id} failed; the claim goes on with the next instance.`, error);
          }
        }
      },
      calls: async (id, lease, calls) => unwrap(await object(id).pythonCalls(name, id, lease, calls)),
      heartbeat: async (id, lease, waitMs) => unwrap(await object(id).heartbeat(name, id, lease, waitMs)),
      release: async (id, lease) => unwrap(await object(id).release(name, id, lease)),
    };
  }

  return {
    workflow,
    python,
    stub,
    fireSchedule: (firing) => fireSchedule(catalog, firing, retention, create),
  };
}
