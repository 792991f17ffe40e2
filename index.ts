export { defineWorkflow, type WorkflowDefinition, type WorkflowOptions, type StepArgs } from "./core/definition";
export { step } from "./core/step";
export { assignDraft, type DraftAssignArgs } from "./core/assign-draft";
export * from "./core/errors";
export type { Duration } from "./core/durations";
export type { StepConfig, RetryConfig, Backoff } from "./core/retry";
export type { Json } from "./core/json";
export type { LogRecord, RecordType, RecordData, ErrorInfo } from "./core/records";
export type { InstanceStatus, InstanceStatusName } from "./core/status";
export type { Instant, MachineInstant, CodeInstant, StepOutcome } from "./core/time-travel";
export type { WorkflowClient, InstanceHandle, HistoryPage, CreateOptions, SendEventOptions, ListOptions, ListOrder, InstanceSummary, BatchError } from "./runtime/client";
export type { WorkflowChange, WorkflowWatch, StatusCounts } from "./runtime/workflow-watch";
export type { WorkflowTypes, ClientEvent } from "./core/workflow-types";
export type { Clock } from "./runtime/clock";
export type { RetentionOptions } from "./core/retention";
export type { LocationHint } from "./core/location-hint";
export { scheduledInstanceId, type CronFiring } from "./core/schedule";
export type { ScheduledInstance } from "./runtime/schedules";
export { WorkflowTimeoutError } from "./runtime/step-runner";
export { createMemoryHost, type MemoryHost, type MemoryHostOptions } from "./adapters/memory/host";
export { createManualClock, type ManualClock } from "./adapters/memory/manual-clock";
export { MemoryStorage } from "./adapters/memory/storage";
export {
  WorkflowEntrypoint,
  type WorkflowEvent,
  type WorkflowStep,
  type WorkflowStepConfig,
  type WorkflowStepContext,
  type WorkflowStepEvent,
  type WorkflowSleepDuration,
  type WorkflowDelayDuration,
  type WorkflowTimeoutDuration,
  type WorkflowBackoff,
} from "./core/code/types";
export { WorkflowFatalError, NonRetryableDelayError } from "./core/code/config";
export {
  InvalidStepReadableStreamError,
  UnsupportedStreamChunkError,
  OversizedStreamChunkError,
  StreamOutputStorageLimitError,
  STREAM_LIMITS,
  type StreamLimits,
} from "./core/code/streams";
export type { CodeWorkflowDefinition, CodeWorkflowOptions } from "./core/code/definition";
export type { AnyWorkflowDefinition } from "./core/definition";
export { InspectionStream, inspectionEvents, replayInto, definitionOf, type InspectionEvent, type InspectorLike } from "./core/inspection";
export type { WorkflowInstanceEvent, WorkflowInstanceEventType, SubscribeOptions } from "./core/instance-events";
export type { InstanceSubscription } from "./runtime/subscription";
export { defineDag, type DagOptions } from "./core/dag/define";
export { dagTasks, DagTasks } from "./core/dag/tasks";
export type { TaskContext, MapItemContext, TaskConfig, TaskStepConfig, TaskOptions, MapOptions, SleepOptions, EventOptions, NeedOutputs } from "./core/dag/types";
export { InvalidDagError, EmptyDagError, DuplicateTaskError, UnknownDependencyError, DagCycleError, InvalidTaskError } from "./core/dag/errors";
export { MapInputError, EventTimeoutError } from "./core/dag/failures";
