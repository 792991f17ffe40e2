/**
 * Every refusal the engine makes is one of these classes: a stable `code` that
 * programs can branch on, and a message that tells a person what to do next.
 */
/** A value as a person would type it, for messages; never throws, whatever the value. */
export function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return typeof value === "bigint" ? `${value}n` : Object.prototype.toString.call(value);
  }
}

/**
 * A value as text, for messages and error records: what String() gives (a string stays itself), or show()'s form of
 * it when String() throws, as it does for an object with no prototype or whose toString is not a function. Never throws.
 */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    return show(value);
  }
}

export class DurableMachinesError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

export class UnknownWorkflowError extends DurableMachinesError {
  constructor(workflow: string, known: readonly string[]) {
    super(
      "workflow.not_found",
      `No workflow named ${show(workflow)} is registered. Registered workflows: ${known.length ? known.map((n) => `"${n}"`).join(", ") : "none"}.`,
    );
  }
}

export class InvalidInstanceIdError extends DurableMachinesError {
  constructor(id: unknown) {
    super(
      "instance.invalid_id",
      `Instance id ${show(id)} is invalid: use 1 to 100 letters, digits, "-" or "_", not starting with "-".`,
    );
  }
}

/** An id Cloudflare reserves in a `createBatch({ instances })`, refused there with its code for an invalid id. */
export class ReservedInstanceIdError extends DurableMachinesError {
  constructor(id: string) {
    super(
      "instance.invalid_id",
      `Instance id "${id}" is reserved in a batch, as on Cloudflare (batch, terminate, terminateAll, and cf_ followed by 64 lowercase hex digits); choose another id.`,
    );
  }
}

export class InstanceExistsError extends DurableMachinesError {
  constructor(workflow: string, id: string) {
    super("instance.already_exists", `Workflow "${workflow}" already has an instance with id "${id}"; choose another id or get() the existing one.`);
  }
}

export class InstanceNotFoundError extends DurableMachinesError {
  constructor(workflow: string, id: string) {
    super("instance.not_found", `Workflow "${workflow}" has no instance with id "${id}".`);
  }
}

export class InstanceFinishedError extends DurableMachinesError {
  constructor(id: string, status: string, what: string) {
    super("instance.finished", `Instance "${id}" is ${status}, so it cannot ${what}; restart it first.`);
  }
}

export class InvalidOperationError extends DurableMachinesError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export class NotSerializableError extends DurableMachinesError {
  constructor(what: string, path: string, found: string) {
    super(
      "payload.not_serializable",
      `${what} must be plain JSON, but ${path} is ${found}. Convert it to a string, number, boolean, null, array or plain object.`,
    );
  }
}

export class PayloadTooLargeError extends DurableMachinesError {
  constructor(what: string, bytes: number, limit: number) {
    super("payload.too_large", `${what} is ${bytes} bytes as JSON; the limit is ${limit} bytes. Store large data elsewhere and pass a reference.`);
  }
}

export class PayloadTooDeepError extends DurableMachinesError {
  constructor(what: string, path: string, limit: number) {
    super("payload.too_deep", `${what} nests arrays and objects more than ${limit} levels deep (at ${path}); flatten it or store it elsewhere and pass a reference.`);
  }
}

export class InvalidEventError extends DurableMachinesError {
  constructor(message: string) {
    super("event.invalid", message);
  }
}

/** Events wait in an instance until a state (or a waitForEvent) takes them; they are bounded so an instance's memory and snapshots stay bounded. */
export class EventsPilingUpError extends DurableMachinesError {
  constructor(instanceId: string, held: number, limits: { events: number; bytes: number }) {
    super(
      "event.too_many_waiting",
      `Instance "${instanceId}" already holds ${held} events it has not taken yet; with this one they would pass the limit of ${limits.events} events or ${limits.bytes} bytes of payload. ` +
        "Send events once the instance waits for them (a state that accepts the type, or step.waitForEvent), or make the workflow take the events it is sent.",
    );
  }
}

/** A subscription's live bell is a socket to the instance's object, and an object keeps a bounded number of them. */
export class TooManySubscribersError extends DurableMachinesError {
  constructor(instanceId: string, limit: number) {
    super(
      "subscription.too_many",
      `Instance "${instanceId}" already has ${limit} live subscriptions, the most one instance keeps; dispose of the subscriptions you no longer read (or close their event streams), then subscribe again.`,
    );
  }
}

/** A list() order other than "newest" or "oldest". */
export class InvalidListOrderError extends InvalidOperationError {
  constructor(order: unknown) {
    super("list.invalid_order", `Unknown list order ${show(order)}; use "newest" (newest created first, the default) or "oldest".`);
  }
}

/** A list() cursor that is not one a previous list() returned, or that continues a list in the other order. */
export class InvalidListCursorError extends InvalidOperationError {
  constructor(problem: string) {
    super("list.invalid_cursor", `${problem} Pass the \`cursor\` of the previous page as it came, with the same order, or leave it out to start from the first page.`);
  }
}

/** A workflow's watches are sockets to its registry object, and the object keeps a bounded number of them. */
export class TooManyWatchesError extends DurableMachinesError {
  constructor(workflow: string, limit: number) {
    super(
      "subscription.too_many",
      `Workflow "${workflow}" already has ${limit} live watches, the most one workflow keeps; dispose of the watches you no longer read (or close their change streams), then watch again.`,
    );
  }
}

export class InvalidDurationError extends DurableMachinesError {
  constructor(value: unknown) {
    super(
      "duration.invalid",
      `${show(value)} is not a duration: use milliseconds (a number >= 0) or a string like "10 seconds", "2 hours", "1 day".`,
    );
  }
}

/** A `retention` option Cloudflare would refuse: durations are whole milliseconds above 0, or strings like "7 days". */
export class InvalidRetentionError extends DurableMachinesError {
  constructor(problem: string) {
    super("retention.invalid", `${problem} Pass retention as { successRetention?, errorRetention? }, each a whole number of milliseconds above 0 or a string like "7 days".`);
  }
}

export class InvalidLocationHintError extends DurableMachinesError {
  constructor(hint: unknown, hints: readonly string[]) {
    super("location_hint.invalid", `Invalid option: expected one of ${hints.map((h) => `"${h}"`).join("|")}; locationHint was ${show(hint)}.`);
  }
}

/** A workflow's `schedules` holds something that is not a cron expression Cloudflare's Cron Triggers accept. */
export class InvalidScheduleError extends DurableMachinesError {
  constructor(workflow: string, problem: string) {
    super("schedule.invalid", `Workflow "${workflow}" has an invalid schedule: ${problem}`);
  }
}

export class InvalidDefinitionError extends DurableMachinesError {
  constructor(workflow: string, problem: string) {
    super("definition.invalid", `Workflow "${workflow}" cannot be replayed safely: ${problem}`);
  }
}

export class DefinitionMismatchError extends DurableMachinesError {
  constructor(workflow: string, id: string, recorded: string, available: readonly string[]) {
    super(
      "definition.mismatch",
      `Instance "${id}" of workflow "${workflow}" was created by definition ${recorded}, which is no longer registered (registered: ${available.join(", ")}). ` +
        `Keep the old definition in the workflows list (defineWorkflow with its old version) so the instance can finish.`,
    );
  }
}

/**
 * Thrown by a step to fail at once, without further retries. Same name and
 * constructor as Cloudflare Workflows' NonRetryableError, so code written for
 * Cloudflare keeps working.
 */
export class NonRetryableError extends Error {
  constructor(message: string, name = "NonRetryableError") {
    super(message);
    this.name = name;
  }
}

/** Machine context changed in place while frozen (in development): the change would be lost on replay. */
export class ContextMutatedError extends DurableMachinesError {
  constructor(workflow: string, cause: Error) {
    // XState puts its own line before the TypeError's for a guard: the last line is what was done.
    const done = cause.message.slice(cause.message.lastIndexOf("\n") + 1);
    super(
      "context.mutated",
      `Workflow "${workflow}" changed machine context in place (${done}). Replay re-folds the log through the machine and would not see that change, ` +
        `so context is frozen in development to stop it where it happens: change context with assign() or assignDraft() (an immer draft) instead.`,
    );
    this.cause = cause;
  }
}

/** What every fold throws for a log this engine could not have written. */
export class CorruptLogError extends DurableMachinesError {
  constructor(message: string) {
    super("log.corrupt", `${message} The log was written by something other than this engine, or records were lost.`);
  }
}

/** A Python worker spoke under a lease that is over (docs/python-protocol.md). */
export class LeaseLostError extends DurableMachinesError {
  constructor(instanceId: string) {
    super("lease.lost", `The lease on instance "${instanceId}" is over (it lapsed, or the pass it was for ended): stop its run() and claim the workflow again.`);
  }
}

/** A Python worker asked for a workflow that Python does not serve. */
export class NotPythonError extends DurableMachinesError {
  constructor(workflow: string) {
    super("workflow.not_python", `Workflow "${workflow}" is not served by Python: define it with defineWorkflow({ name, python: {} }) to have Python workers run it.`);
  }
}

/** A testing helper (durable-machines/testing) was given a modifier it cannot apply; thrown in a test, never an answer. */
export class InvalidTestModifierError extends DurableMachinesError {
  constructor(message: string) {
    super("testing.invalid_modifier", message);
  }
}

/** `waitForStatus` saw the instance finish with another status than the one awaited; thrown in a test, never an answer. */
export class UnexpectedStatusError extends DurableMachinesError {
  constructor(instanceId: string, awaited: string, found: string) {
    super("testing.unexpected_status", `Instance "${instanceId}" finished as "${found}" while the test waited for "${awaited}": read its error with getError() or its history() to see why.`);
  }
}

/** The statechart layout (dashboard/diagram) was given a definition it cannot draw: not a machine config, or a target that names no state. */
export class InvalidDiagramInputError extends DurableMachinesError {
  constructor(problem: string) {
    super("diagram.invalid_input", `The diagram cannot be drawn: ${problem}. Pass the machine config as definitionOf() gives it (JSON.parse of the inspector's definition), or a DAG's meta.dag shape.`);
  }
}
