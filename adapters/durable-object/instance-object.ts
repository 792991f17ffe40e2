import { DurableObject } from "cloudflare:workers";
import { DurableMachinesError, InstanceExistsError, InstanceNotFoundError } from "../../core/errors";
import type { LogRecord } from "../../core/records";
import type { InstanceStatus, InstanceStatusName } from "../../core/status";
import type { WorkflowCatalog } from "../../runtime/catalog";
import type { Clock } from "../../runtime/clock";
import type { DriverOptions } from "../../runtime/driver";
import { createInstance, loadInstance, type HostedInstance, type InstanceCommand, type InstanceSummaryState } from "../../runtime/hosted";
import type { HistoryPage } from "../../runtime/client";
import { readHistoryPage } from "../../runtime/history-pages";
import { capture, type Outcome } from "../../runtime/wire";
import type { Creation } from "../../core/creation";
import type { RegistryEntry } from "./registry-object";
import { SqlInstanceStore } from "./sql-store";
import type { InspectionStream } from "../../core/inspection";
import { historyAnswer, historyRequest, inspectionStreamAfter, openingMessages } from "../../runtime/inspection-pages";
import type { AnyWorkflowDefinition } from "../../core/definition";

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

interface RegistryStub {
  update(workflow: string, entry: RegistryEntry): Promise<void>;
  remove(id: string): Promise<void>;
}

/**
 * The Durable Object class that hosts one instance per object: its log and
 * snapshots in SQLite, its timers and retries on the object's one alarm, its
 * steps run inside the object.
 */
export function createInstanceObject(catalog: WorkflowCatalog, settings: HostSettings) {
  return class WorkflowInstance extends DurableObject<Record<string, unknown>> {
    private readonly store: SqlInstanceStore;
    private driver: HostedInstance | undefined;
    private def: AnyWorkflowDefinition | undefined;
    /** Where live inspection stands; rebuilt from the log when the object wakes with sockets open. */
    private live: InspectionStream | undefined;
    private loadError: DurableMachinesError | undefined;
    private reported: InstanceStatusName | undefined;
    private reportPending = false;
    /** The wipe of an instance whose retention ran out, for the alarm to wait on. */
    private expired: Promise<void> | undefined;

    constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
      super(ctx, env);
      this.store = new SqlInstanceStore(ctx.storage.sql);
      void ctx.blockConcurrencyWhile(async () => this.load());
    }

    async create(workflow: string, instanceId: string, creation: Creation): Promise<Outcome<InstanceStatus>> {
      return capture(async () => {
        if (!this.store.isEmpty()) throw new InstanceExistsError(workflow, instanceId);
        const def = catalog.latest(workflow);
        this.driver = createInstance(def, this.store, settings.clock, this.driverOptions(), instanceId, creation);
        this.def = def;
        this.reportSoon();
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

    /** One stored row of a step's streamed output, for a subscriber's stream of it. */
    async streamChunk(workflow: string, instanceId: string, key: string, attempt: number, index: number): Promise<Outcome<Uint8Array | null>> {
      return capture(() => {
        this.instance(workflow, instanceId);
        return this.store.chunks.read(key, attempt, index) ?? null;
      });
    }

    async remove(workflow: string, instanceId: string): Promise<Outcome<void>> {
      return capture(async () => {
        if (this.store.isEmpty()) throw new InstanceNotFoundError(workflow, instanceId);
        await this.wipe(workflow, instanceId);
      });
    }

    /** Wipes the instance: its work stops, its storage and alarm go, its sockets close, the registry forgets it. */
    private async wipe(workflow: string, instanceId: string): Promise<void> {
      this.driver?.dispose();
      this.driver = undefined;
      this.def = undefined;
      this.loadError = undefined;
      this.live = undefined;
      this.reported = undefined;
      for (const socket of this.ctx.getWebSockets()) socket.close(1000, "instance deleted");
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.store.forget();
      await this.registry(workflow).remove(instanceId);
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
     * The Worker has checked the token before forwarding.
     */
    override async fetch(request: Request): Promise<Response> {
      const [workflow, instanceId] = new URL(request.url).searchParams.getAll("instance");
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return Response.json({ error: { code: "request.not_websocket", message: "Open the inspect endpoint as a WebSocket." } }, { status: 426 });
      }
      const outcome = await capture(() => this.instance(workflow ?? "", instanceId ?? ""));
      if (!outcome.ok) return Response.json({ error: outcome.error }, { status: outcome.error.code.endsWith("not_found") ? 404 : 409 });
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
      this.ctx.acceptWebSocket(server);
      const { messages, stream } = openingMessages(this.def!, this.store, outcome.value.summary().seq);
      for (const message of messages) server.send(message);
      this.live ??= stream;
      return new Response(null, { status: 101, webSocket: client });
    }

    /** A client asks for older events: `{ "type": "history", "before": <seq>, "limit": <n> }`. Nothing it sends changes the instance. */
    override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
      if (!this.def || !this.driver) return;
      const request = historyRequest(message, this.driver.summary().seq);
      socket.send("error" in request ? JSON.stringify({ type: "@durable-machines.error", code: "inspect.invalid_request", message: request.error }) : historyAnswer(this.def, this.store, request));
    }

    override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
      socket.close(code === 1005 ? 1000 : code, "closed");
    }

    private broadcast(records: readonly LogRecord[]): void {
      const sockets = this.ctx.getWebSockets();
      if (!sockets.length || !this.def) {
        this.live = undefined;
        return;
      }
      this.live ??= inspectionStreamAfter(this.def, this.store, records[0]!.seq - 1);
      const messages = this.live.push(records).map((event) => JSON.stringify(event));
      for (const socket of sockets) for (const message of messages) socket.send(message);
    }

    /** The one alarm: timers, retries and the keep-alive, or a finished instance's retention running out, which wipes it. */
    override async alarm(): Promise<void> {
      this.driver?.wake();
      const expired = this.expired;
      this.expired = undefined;
      await expired;
    }

    private instance(workflow: string, instanceId: string): HostedInstance {
      if (this.loadError) throw this.loadError;
      if (!this.driver) throw new InstanceNotFoundError(workflow, instanceId);
      return this.driver;
    }

    private load(): void {
      if (this.store.isEmpty()) return;
      const [created] = this.store.read({ limit: 1 }) as [LogRecord<"instance.created">];
      const { workflow, instanceId, definitionHash } = created.data;
      try {
        this.def = catalog.pinned(workflow, instanceId, definitionHash);
        this.driver = loadInstance(this.def, this.store, settings.clock, this.driverOptions());
      } catch (error) {
        if (!(error instanceof DurableMachinesError)) throw error;
        this.loadError = error;
      }
    }

    private driverOptions(): DriverOptions {
      const storage = this.ctx.storage;
      return {
        snapshotEvery: settings.snapshotEvery,
        env: this.env,
        alarm: {
          set(at, busy) {
            const ahead = settings.clock.now() - Date.now();
            const ring = busy ? Math.min(at ?? Infinity, settings.clock.now() + KEEPALIVE_MS) : at;
            void (ring === undefined ? storage.deleteAlarm() : storage.setAlarm(ring - ahead));
          },
        },
        onAppend: (records) => {
          this.reportSoon();
          this.broadcast(records);
        },
        onExpired: ({ workflow, instanceId }) => {
          this.expired = this.wipe(workflow, instanceId);
        },
        onActionError: (error, action) => console.error(`durable-machines: action "${action}" threw; the instance carries on.`, error),
      };
    }

    private registry(workflow: string): RegistryStub {
      const namespace = this.env[settings.registryBinding] as DurableObjectNamespace;
      return namespace.get(namespace.idFromName(workflow)) as unknown as RegistryStub;
    }

    /**
     * Reports the status once the current burst of work is done: a run of
     * quick steps changes status at every step, and the registry only needs
     * where the instance settled.
     */
    private reportSoon(): void {
      if (this.reportPending) return;
      this.reportPending = true;
      setTimeout(() => {
        this.reportPending = false;
        const summary = this.driver?.summary();
        if (summary && summary.status !== this.reported) this.ctx.waitUntil(this.report(summary));
      }, 0);
    }

    /** Tells the workflow's registry this instance's status; the seq orders reports that arrive out of order. */
    private async report(summary: InstanceSummaryState): Promise<void> {
      const { workflow, instanceId, status, createdAt, updatedAt, seq } = summary;
      this.reported = status;
      try {
        await this.registry(workflow).update(workflow, { id: instanceId, status, createdAt, updatedAt, seq });
      } catch (error) {
        this.reported = undefined;
        console.error("durable-machines: the registry missed a status change; the next one will carry it.", error);
      }
    }
  };
}
