import { DurableObject } from "cloudflare:workers";
import { DurableMachinesError, InstanceExistsError, InstanceNotFoundError } from "../../core/errors";
import type { LogRecord } from "../../core/records";
import type { InstanceStatus, InstanceStatusName } from "../../core/status";
import type { WorkflowCatalog } from "../../runtime/catalog";
import type { Clock } from "../../runtime/clock";
import type { DriverOptions } from "../../runtime/driver";
import { createInstance, loadInstance, type HostedInstance, type InstanceCommand, type InstanceSummaryState } from "../../runtime/hosted";
import { capture, type Outcome } from "../../runtime/wire";
import type { RegistryEntry } from "./registry-object";
import { SqlInstanceStore } from "./sql-store";

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
    private loadError: DurableMachinesError | undefined;
    private reported: InstanceStatusName | undefined;
    private reportPending = false;

    constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
      super(ctx, env);
      this.store = new SqlInstanceStore(ctx.storage.sql);
      void ctx.blockConcurrencyWhile(async () => this.load());
    }

    async create(workflow: string, instanceId: string, params: unknown): Promise<Outcome<InstanceStatus>> {
      return capture(async () => {
        if (!this.store.isEmpty()) throw new InstanceExistsError(workflow, instanceId);
        const def = catalog.latest(workflow);
        this.driver = createInstance(def, this.store, settings.clock, this.driverOptions(), instanceId, params);
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

    async history(workflow: string, instanceId: string, range: { after?: number; limit?: number }): Promise<Outcome<LogRecord[]>> {
      return capture(() => this.instance(workflow, instanceId).history(range));
    }

    /** Bytes of log and snapshots this instance stores. */
    async footprint(): Promise<{ log: number; snapshots: number; records: number }> {
      return { ...this.store.bytes(), records: this.driver?.summary().seq ?? 0 };
    }

    override async alarm(): Promise<void> {
      this.driver?.wake();
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
        this.driver = loadInstance(catalog.pinned(workflow, instanceId, definitionHash), this.store, settings.clock, this.driverOptions());
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
        onAppend: () => this.reportSoon(),
        onActionError: (error, action) => console.error(`durable-machines: action "${action}" threw; the instance carries on.`, error),
      };
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
      const { workflow, instanceId, status, createdAt, seq } = summary;
      this.reported = status;
      const namespace = this.env[settings.registryBinding] as DurableObjectNamespace;
      const registry = namespace.get(namespace.idFromName(workflow)) as unknown as RegistryStub;
      try {
        await registry.update(workflow, { id: instanceId, status, createdAt, seq });
      } catch (error) {
        this.reported = undefined;
        console.error("durable-machines: the registry missed a status change; the next one will carry it.", error);
      }
    }
  };
}
