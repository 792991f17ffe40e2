import { DurableMachinesError } from "../../../core/errors";

/**
 * Every error code the engine and the API use, with the HTTP status the API
 * answers it with: the one table onError reads. A code that is not here is a
 * bug and is answered as `internal` (500), so an error can never reach a
 * client with a status nobody chose. tests/error-codes.test.ts checks that every code
 * the code base throws has a row.
 */
export const ERROR_STATUS = {
  // The request itself: its credentials, path, method, query and body.
  "auth.invalid": 401,
  "auth.not_configured": 401,
  "auth.token_in_query": 400,
  "route.not_found": 404,
  "method.not_allowed": 405,
  "request.invalid_path": 400,
  "request.invalid_query": 400,
  "request.invalid_json": 400,
  "request.invalid": 400,
  "request.not_websocket": 426,
  "payload.too_large": 413,
  "payload.too_deep": 400,
  "payload.not_serializable": 400,
  "protocol.unsupported": 400,

  // What the request names, and what it asks of it.
  "workflow.not_found": 404,
  "instance.not_found": 404,
  "instance.invalid_id": 400,
  "instance.already_exists": 409,
  "instance.duplicate_in_batch": 409,
  "instance.finished": 409,
  "instance.cannot_resume": 409,
  "instance.cannot_terminate": 409,
  "instance.cannot_restart": 409,
  "restart.invalid_from": 400,
  "event.invalid": 400,
  "event.too_many_waiting": 409,
  "batch.invalid": 400,
  "list.invalid": 400,
  "list.invalid_status": 400,
  "list.invalid_limit": 400,
  "list.invalid_cursor": 400,
  "list.invalid_order": 400,
  "history.invalid_range": 400,
  "subscription.invalid": 400,
  "subscription.too_many": 429,
  "retention.invalid": 400,
  "location_hint.invalid": 400,
  "duration.invalid": 400,
  "schedule.invalid_firing": 400,
  "definition.mismatch": 409,

  // The deployment, not the request: a missing binding, a definition or a log the engine cannot use.
  "host.not_configured": 500,
  "definition.invalid": 500,
  "log.corrupt": 500,
  "lease.lost": 409,
  "workflow.not_python": 409,
  "snapshot.not_serializable": 500,
  // Recorded as an instance's error (or told to onActionError), never answered; listed so that every code has a status.
  "context.mutated": 500,
  // Thrown when workflows are defined, as the Worker starts, before any request; listed so that every code has a status.
  "schedule.invalid": 500,
  "step.invalid_config": 500,
  "dag.empty": 500,
  "dag.duplicate_task": 500,
  "dag.unknown_dependency": 500,
  "dag.cycle": 500,
  "dag.invalid_task": 500,
  "dag.invalid_option": 500,
  // Thrown by durable-machines/testing inside a user's test, never answered; listed so that every code has a status.
  "testing.invalid_modifier": 500,
  "testing.unexpected_status": 500,
  // Thrown by the dashboard's diagram code in the browser, never answered; listed so that every code has a status.
  "diagram.invalid_input": 500,

  // Anything else: a bug. The stack is logged, never sent.
  internal: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/** The status of a code in the table; undefined for a code the table does not know. */
export function statusOf(code: string): ErrorStatus | undefined {
  return Object.hasOwn(ERROR_STATUS, code) ? ERROR_STATUS[code as ErrorCode] : undefined;
}

/** A refusal the API makes itself, before or around the engine: credentials, routing, the request's form. */
export class ApiError extends DurableMachinesError {
  constructor(
    override readonly code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}
