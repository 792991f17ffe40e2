import type { Creation } from "../core/creation";
import type { Command } from "../core/decide";
import type { AnyWorkflowDefinition } from "../core/definition";
import type { LogRecord } from "../core/records";
import type { InstanceStatus, InstanceStatusName } from "../core/status";
import type { Instant } from "../core/time-travel";
import type { Clock } from "./clock";
import { CodeDriver } from "./code-driver";
import { InstanceDriver, type DriverOptions } from "./driver";
import { RemoteCodeDriver } from "./remote-driver";
import type { InstanceStore, ReadRange } from "./store";

/** What a host asks of an instance from outside. */
export type InstanceCommand = Exclude<Command, { type: "step.result" | "wake" | "recover" }>;

export interface InstanceSummaryState {
  workflow: string;
  instanceId: string;
  createdAt: number;
  /** Time of the last record. */
  updatedAt: number;
  /** Log position, which orders status reports. */
  seq: number;
  status: InstanceStatusName;
}

/** One instance as a host holds it, whichever way its workflow is written. */
export interface HostedInstance {
  summary(): InstanceSummaryState;
  status(): InstanceStatus;
  command(command: InstanceCommand): void;
  history(range?: ReadRange): LogRecord[];
  /** The instance as it stood after record `after` (checked: a seq from 1 to the last), folded as recovery folds it. */
  stateAfter(after: unknown): Instant;
  /** The host's alarm rang. */
  wake(): void;
  /** Settles once no step attempt is in flight. */
  idle(): Promise<void>;
  idleNow(): boolean;
  /** Forgets everything in memory and stops all work, as a crash would. */
  dispose(): void;
}

export function createInstance(def: AnyWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions, instanceId: string, creation: Creation): HostedInstance {
  if (def.kind === "machine") return InstanceDriver.create(def, store, clock, options, instanceId, creation);
  return def.python ? RemoteCodeDriver.create(def, store, clock, options, instanceId, creation) : CodeDriver.create(def, store, clock, options, instanceId, creation);
}

export function loadInstance(def: AnyWorkflowDefinition, store: InstanceStore, clock: Clock, options: DriverOptions): HostedInstance {
  if (def.kind === "machine") return InstanceDriver.load(def, store, clock, options);
  return def.python ? RemoteCodeDriver.load(def, store, clock, options) : CodeDriver.load(def, store, clock, options);
}
