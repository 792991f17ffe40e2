import { DurableObject } from "cloudflare:workers";
import { DurableMachinesError, InstanceExistsError, InstanceNotFoundError, NotPythonError } from "../../core/errors";
import type { LogRecord } from "../../core/records";
import type { InstanceStatus } from "../../core/status";
import type { Instant } from "../../core/time-travel";
import type { WorkflowCatalog } from "../../runtime/catalog";
import type { Clock } from "../../runtime/clock";
import type { DriverOptions } from "../../runtime/driver";
import { createInstance, loadInstance, type HostedInstance, type InstanceCommand } from "../../runtime/hosted";
import type { HistoryPage } from "../../runtime/client";
import { readHistoryPage } from "../../runtime/history-pages";
import { capture, type Outcome } from "../../runtime/wire";
import { RemoteCodeDriver } from "../../runtime/remote-driver";
import type { CallsAnswer, HeartbeatAnswer, WireCall, WireTask } from "../../runtime/python-workers";
import type { Creation } from "../../core/creation";
import { OUTBOX_TABLE, RegistryOutbox, type RegistryStub } from "./registry-outbox";
import { SharedAlarm } from "./shared-alarm";
import type { ClaimQueueStub } from "./claim-queue";
import { closeSocket } from "./close-socket";
import { acceptSubscriber, isSubscriber, ringSubscribers, SUBSCRIBER_PATH } from "./subscriber-sockets";
import { SqlInstanceStore } from "./sql-store";
import type { InspectionStream } from "../../core/inspection";
import { historyAnswer, historyRequest, inspectionStreamAfter, openingMessages } from "../../runtime/inspection-pages";
import type { AnyWorkflowDefinition } from "../../core/definition";
import { TEST_HOOKS, TestHookTable, type TestHooks } from "../../runtime/test-hooks";

export interface HostSettings {
  snapshotEvery: number;
  /** Time for the instances; the alarm rings at the matching real time. */
  clock: Clock;
  /** The env binding of the registry namespace. */
  registryBinding: string;
}

/** While steps run, the alarm also rings this often, so an object evicted mid-step is woken to run it again. */
export const KEEPALIVE_MS = 30_000;

export type { InstanceCommand };

/** A Durable Object class as the user's Worker exports it, for wrangler to construct. */
export type DurableObjectClass = new (ctx: DurableObjectState, env: Record<string, unknown>) => DurableObject<Record<string, unknown>>;

/**
 * The Durable Object class that hosts one instance per object: its log and
 * snapshots in SQLite, its timers and retries on the object's one alarm, its
 * steps run inside the object. Typed as a plain Durable Object class (the
 * client reaches it through InstanceStub) so declarations can be emitted
 * for it: an anonymous class with private members cannot be.
 */
export function createInstanceObject(catalog: WorkflowCatalog, settings: HostSettings): DurableObjectClass {
  /** What durable-machines/testing sets on instances of this class in this isolate; made only when a test reaches for it. */
  let testHooks: TestHookTable | undefined;
  const consulted: TestHooks = {
    instance: (workflow, id) => testHooks?.instance(workflow, id),
    created: (workflow, id) => testHooks?.created(workflow, id),
  };
  return class WorkflowInstance extends DurableObject<Record<string, unknown>> {
    private readonly store: SqlInstanceStore;
    private driver: HostedInstance | undefined;
    private def: AnyWorkflowDefinition | undefined;
    /** Where live inspection stands; rebuilt from the log when the object wakes with sockets open. */
    private live: InspectionStream | undefined;
    private loadError: DurableMachinesError | undefined;
    /** The one alarm, shared by the driver's timers and the registry outbox's retries. */
    private readonly sharedAlarm: SharedAlarm;
    /** What the workflow's registry has yet to hear of this instance, durable until it acknowledges. */
    private readonly outbox: RegistryOutbox;
    /** The wipe of an instance whose retention ran out, for the alarm to wait on. */
    private expired: Promise<void> | undefined;

    constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
      super(ctx, env);
      this.store = new SqlInstanceStore(ctx.storage.sql);
      this.sharedAlarm = new SharedAlarm(ctx.storage, settings.clock);
      this.outbox = new RegistryOutbox(
        ctx.storage.sql,
        (workflow) => this.registry(workflow),
        () => settings.clock.now(),
        (at) => this.sharedAlarm.want("report", at),
        () => this.cleared(),
      );
      void ctx.blockConcurrencyWhile(async () => this.load());
    }

    /**
     * The test hooks, for durable-machines/testing through the vitest plugin's `runInDurableObject`. Symbol-keyed, so
     * JS RPC cannot call it, and no route of the Worker reaches it: see runtime/test-hooks.ts.
     */
    get [TEST_HOOKS](): TestHookTable {
      return (testHooks ??= new TestHookTable());
    }

    async create(workflow: string, instanceId: string, creation: Creation): Promise<Outcome<InstanceStatus>> {
      return capture(async () => {
        if (!this.store.isEmpty()) throw new InstanceExistsError(workflow, instanceId);
        const def = catalog.latest(workflow);
        this.driver = createInstance(def, this.store, settings.clock, this.driverOptions(), instanceId, creation);
        this.def = def;
        return this.driver.status();
      });
    }

    async status(workflow: string, instanceId: string): Promise<Outcome<InstanceStatus>> {
      return capture(() => this.instance(workflow, instanceId).status());
    }

    async command(workflow: string, instanceId: string, command: InstanceCommand): Promise<Outcome<InstanceStatus>> {
      return capture(() => {
        const driver = this.instance(workflow, instanceId);
        driver.command(command);
        return driver.status();
      });
    }

    /** One page of the log, bounded by count and bytes so that it always fits an RPC answer. */
    async history(workflow: string, instanceId: string, range: { after?: number; limit?: number }): Promise<Outcome<HistoryPage>> {
      return capture(() => readHistoryPage(this.instance(workflow, instanceId), range));
    }

    /** Time travel: the instance after record `after`, folded here, beside the log, from the newest snapshot at or before it and the tail after: no record crosses RPC. */
    async stateAfter(workflow: string, instanceId: string, after: number): Promise<Outcome<Instant>> {
      return capture(() => this.instance(workflow, instanceId).stateAfter(after));
    }

    /** One stored row of a step's streamed output, for a subscriber's stream of it. */
    async streamChunk(workflow: string, instanceId: string, key: string, attempt: number, index: number): Promise<Outcome<Uint8Array | null>> {
      return capture(() => {
        this.instance(workflow, instanceId);
        return this.store.chunks.read(key, attempt, index) ?? null;
      });
    }

    /**
     * A Python worker claims the instance (docs/python-protocol.md): the task
     * under a new lease if a pass wants a worker, else null (claimed since,
     * finished, paused). Asked of an evicted object, it wakes it: loading
     * the instance from its log starts a pass that wants a worker, which
     * this claim takes.
     */
    async claim(workflow: string, instanceId: string): Promise<Outcome<WireTask | null>> {
      return capture(() => this.remote(workflow, instanceId).claim() ?? null);
    }

    /** A worker's calls under its lease, each answered once its records are durable. */
    async pythonCalls(workflow: string, instanceId: string, lease: string, calls: readonly WireCall[]): Promise<Outcome<CallsAnswer>> {
      return capture(() => this.remote(workflow, instanceId).calls(lease, calls));
    }

    /** Renews the lease, then waits in the object (up to `waitMs`, never past half the lease) for work or the pass's end. */
    async heartbeat(workflow: string, instanceId: string, lease: string, waitMs: number): Promise<Outcome<HeartbeatAnswer>> {
      return capture(() => this.remote(workflow, instanceId).heartbeat(lease, waitMs));
    }

    /** The worker lets its pass go. */
    async release(workflow: string, instanceId: string, lease: string): Promise<Outcome<ReturnType<RemoteCodeDriver["release"]>>> {
      return capture(() => this.remote(workflow, instanceId).release(lease));
    }

    /**
     * Deletes the instance. Asked of an object that holds none (the registry
     * listed an instance that is gone), it still makes sure the registry
     * forgets the id, in order with this object's own reports, then answers
     * not found.
     */
    async remove(workflow: string, instanceId: string): Promise<Outcome<void>> {
      return capture(async () => {
        if (this.store.isEmpty()) {
          if (this.outbox.pending()) await this.outbox.deliver();
          else await this.outbox.forgetUnknown(workflow, instanceId);
          throw new InstanceNotFoundError(workflow, instanceId);
        }
        await this.wipe(workflow, instanceId);
      });
    }

    /**
     * Wipes the instance: its work stops, its sockets close, its tables go and
     * the registry's removal is owed, all in one commit, so a crash leaves
     * either the whole instance or a removal for the alarm to retry, never a
     * listed instance that is gone. Once the registry has forgotten it, the
     * object drops its last row and its alarm. A removal the registry refuses
     * does not fail the delete: the instance is gone and the alarm retries.
     */
    private async wipe(workflow: string, instanceId: string): Promise<void> {
      this.driver?.dispose();
      this.driver = undefined;
      this.def = undefined;
      this.loadError = undefined;
      this.live = undefined;
      this.sharedAlarm.want("driver", undefined);
      for (const socket of this.ctx.getWebSockets()) closeSocket(socket, 1000, "instance deleted");
      this.store.drop([OUTBOX_TABLE]);
      this.outbox.noteRemoval(workflow, instanceId);
      await this.outbox.deliver();
    }

    /** The registry forgot the deleted instance: nothing of it is left to keep. */
    private async cleared(): Promise<void> {
      await this.ctx.storage.deleteAll();
      this.store.forget();
      this.outbox.forget();
      this.sharedAlarm.want("report", undefined);
    }

    /** Bytes of log and snapshots this instance stores. */
    async footprint(): Promise<{ log: number; snapshots: number; records: number }> {
      return { ...this.store.bytes(), records: this.driver?.summary().seq ?? 0 };
    }

    /**
     * Live inspection: a hibernatable WebSocket that first sends the instance
     * as it stands (the root actor with its current snapshot) and the events
     * of its newest records, then each new record as it is appended; older
     * events come a page at a time when the client asks (docs/inspection.md).
     * The Worker has checked the token before forwarding. The same upgrade
     * at SUBSCRIBER_PATH is a subscription's bell (subscriber-sockets.ts).
     */
    override async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      const [workflow, instanceId] = url.searchParams.getAll("instance");
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return Response.json({ error: { code: "request.not_websocket", message: "Open the inspect endpoint as a WebSocket." } }, { status: 426 });
      }
      const outcome = await capture(() => this.instance(workflow ?? "", instanceId ?? ""));
      if (!outcome.ok) return Response.json({ error: outcome.error }, { status: outcome.error.code.endsWith("not_found") ? 404 : 409 });
      if (url.pathname === SUBSCRIBER_PATH) return acceptSubscriber(this.ctx, instanceId!, outcome.value.summary().seq);
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
      this.ctx.acceptWebSocket(server);
      const { messages, stream } = openingMessages(this.def!, this.store, outcome.value.summary().seq);
      for (const message of messages) server.send(message);
      this.live ??= stream;
      return new Response(null, { status: 101, webSocket: client });
    }

    /** A client asks for older events: `{ "type": "history", "before": <seq>, "limit": <n> }`. Nothing it sends changes the instance. */
    override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
      if (!this.def || !this.driver || isSubscriber(this.ctx, socket)) return;
      const request = historyRequest(message, this.driver.summary().seq);
      socket.send("error" in request ? JSON.stringify({ type: "@durable-machines.error", code: "inspect.invalid_request", message: request.error }) : historyAnswer(this.def, this.store, request));
    }

    /** A client closed or dropped its socket: answer its close frame if the runtime has not, never with a code only a peer's drop can have. */
    override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
      closeSocket(socket, code, "closed");
    }

    private broadcast(records: readonly LogRecord[]): void {
      const sockets = this.ctx.getWebSockets().filter((socket) => !isSubscriber(this.ctx, socket));
      if (!sockets.length || !this.def) {
        this.live = undefined;
        return;
      }
      this.live ??= inspectionStreamAfter(this.def, this.store, records[0]!.seq - 1);
      const messages = this.live.push(records).map((event) => JSON.stringify(event));
      for (const socket of sockets) for (const message of messages) socket.send(message);
    }

    /**
     * The one alarm: the driver's timers, retries and keep-alive (or a
     * finished instance's retention running out, which wipes it), and the
     * retry of a registry report. The driver is woken only when its own time
     * has come, so a ring for the report leaves its timers as they were.
     */
    override async alarm(): Promise<void> {
      this.sharedAlarm.rang();
      if (this.sharedAlarm.due("driver")) {
        if (this.driver) this.driver.wake();
        else this.sharedAlarm.want("driver", undefined);
      }
      this.sharedAlarm.apply();
      const expired = this.expired;
      this.expired = undefined;
      await expired;
      if (this.outbox.pending()) await this.outbox.deliver();
    }

    private instance(workflow: string, instanceId: string): HostedInstance {
      if (this.loadError) throw this.loadError;
      if (!this.driver) throw new InstanceNotFoundError(workflow, instanceId);
      return this.driver;
    }

    private remote(workflow: string, instanceId: string): RemoteCodeDriver {
      const driver = this.instance(workflow, instanceId);
      if (!(driver instanceof RemoteCodeDriver)) throw new NotPythonError(workflow);
      return driver;
    }

    /** Rebuilds the instance from storage; a report or removal the registry has not acknowledged goes out again. */
    private load(): void {
      if (!this.store.isEmpty()) {
        const [created] = this.store.read({ limit: 1 }) as [LogRecord<"instance.created">];
        const { workflow, instanceId, definitionHash } = created.data;
        try {
          this.def = catalog.pinned(workflow, instanceId, definitionHash);
          this.driver = loadInstance(this.def, this.store, settings.clock, this.driverOptions());
        } catch (error) {
          if (!(error instanceof DurableMachinesError)) throw error;
          this.loadError = error;
        }
        // Stored before the outbox existed: its last report may have been lost, so it reports again.
        if (this.driver && !this.outbox.exists()) this.outbox.noteStatus(this.driver.summary());
      }
      if (this.outbox.pending()) this.outbox.deliverSoon();
    }

    private driverOptions(): DriverOptions {
      return {
        snapshotEvery: settings.snapshotEvery,
        env: this.env,
        testHooks: consulted,
        alarm: {
          set: (at, busy) => this.sharedAlarm.want("driver", busy ? Math.min(at ?? Infinity, settings.clock.now() + KEEPALIVE_MS) : at),
        },
        onAppend: (records, summary) => {
          // In the commit of the records: a status change is owed to the registry from here on, whatever happens next.
          // Only a change is sent at once; one the registry refused waits for the alarm, not for the next step.
          if (this.outbox.noteStatus(summary)) this.outbox.deliverSoon();
          ringSubscribers(this.ctx, summary.seq);
          this.broadcast(records);
        },
        onExpired: ({ workflow, instanceId }) => {
          this.expired = this.wipe(workflow, instanceId);
        },
        onActionError: (error, action) => console.error(`durable-machines: action "${action}" threw; the instance carries on.`, error),
        // Not awaited: a report lost on the way is sent again at the driver's keep-alive ring while the instance stays unclaimed.
        onWanted: (workflow, instanceId) => {
          this.registry(workflow)
            .want(instanceId)
            .catch((error: unknown) => console.error(`durable-machines: the registry did not queue ${workflow}/${instanceId} for a Python worker; the keep-alive alarm asks again.`, error));
        },
      };
    }

    private registry(workflow: string): RegistryStub & Pick<ClaimQueueStub, "want"> {
      const namespace = this.env[settings.registryBinding] as DurableObjectNamespace;
      return namespace.get(namespace.idFromName(workflow)) as unknown as RegistryStub & Pick<ClaimQueueStub, "want">;
    }
  };
}
