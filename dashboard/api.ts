import type { HistoryStep } from "../core/step-history";
import type { LogRecord } from "../core/records";
import type { InstanceStatusName } from "../core/status";
import type { Json } from "../core/json";
import type { Instant } from "../core/time-travel";

/** The API's answers the dashboard reads, as adapters/worker/api/schemas.ts declares them. */
export interface InstanceStatus {
  id: string;
  status: InstanceStatusName;
  value: Json;
  output?: Json;
  error?: { name: string; message: string };
}
export interface InstanceSummary {
  id: string;
  status: InstanceStatusName;
  createdAt: number;
  updatedAt: number;
}
export interface InstanceList {
  instances: InstanceSummary[];
  cursor?: string;
}
export type Counts = Partial<Record<InstanceStatusName, number>>;
/** One message of a workflow's change stream (GET …/changes), as runtime/workflow-watch.ts declares it. */
export type WorkflowChange =
  | { type: "sync"; counts: Counts }
  | { type: "created" | "updated"; instance: InstanceSummary; counts: Counts }
  | { type: "deleted"; id: string; counts: Counts };

/** A refusal from the API, with its stable code (README's error table). */
export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(code ? `${code}: ${message}` : message);
  }
}

/** Records read a page at a time; the API's pages hold at most 1,000. */
const PAGE = 1000;

/**
 * The HTTP API with the token as `Authorization: Bearer`, the only way the
 * dashboard sends it: never in a URL, where logs and history keep it.
 */
export class Api {
  constructor(private readonly token: () => string) {}

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token()}`, "content-type": "application/json" };
  }

  async call<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const response = await fetch(`/api${path}`, {
      method: init.method ?? "GET",
      headers: this.headers(),
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!response.ok) throw body.error ? new ApiCallError(body.error.code, body.error.message) : new ApiCallError("", `${response.status} ${response.statusText}`);
    return body as T;
  }

  /** An open event stream (Server-Sent Events over fetch, so the token goes in the header), or undefined when nothing more will come (204). */
  async stream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | undefined> {
    const response = await fetch(`/api${path}`, { headers: { ...this.headers(), accept: "text/event-stream" }, signal });
    if (response.status === 204) return undefined;
    if (!response.ok || !response.body) {
      const body = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new ApiCallError(body.error?.code ?? "", body.error?.message ?? `${response.status} ${response.statusText}`);
    }
    return response.body;
  }

  /** A ticket that opens GET of one path for a minute, for a client that cannot send the header (a WebSocket). */
  ticket = (path: string) => this.call<{ ticket: string }>("/tickets", { method: "POST", body: { path } }).then((answer) => answer.ticket);
  workflows = () => this.call<{ workflows: string[] }>("/workflows").then((answer) => answer.workflows);
  counts = (workflow: string) => this.call<{ counts: Counts }>(workflowPath(workflow)).then((answer) => answer.counts);
  /** A page of the workflow's instances, newest first across pages (the API's order, a cursor continuing after its page). */
  list = (workflow: string, query: { status?: string; limit: number; cursor?: string }) => {
    const search = new URLSearchParams({ limit: String(query.limit), order: "newest" });
    if (query.status) search.set("status", query.status);
    if (query.cursor) search.set("cursor", query.cursor);
    return this.call<InstanceList>(`${workflowPath(workflow)}/instances?${search}`);
  };
  create = (workflow: string, body: { id?: string; params?: unknown }) => this.call<InstanceStatus>(`${workflowPath(workflow)}/instances`, { method: "POST", body });
  deleteAll = (workflow: string) => this.call<{ deleted: number }>(`${workflowPath(workflow)}/instances`, { method: "DELETE" });
  status = (workflow: string, id: string) => this.call<InstanceStatus>(instancePath(workflow, id));
  remove = (workflow: string, id: string) => this.call<unknown>(instancePath(workflow, id), { method: "DELETE" });
  lifecycle = (workflow: string, id: string, action: "pause" | "resume" | "terminate" | "restart", body: { rollback?: boolean; from?: string } = {}) =>
    this.call<unknown>(`${instancePath(workflow, id)}/${action}`, { method: "POST", body });
  sendEvent = (workflow: string, id: string, type: string, payload: unknown) => this.call<unknown>(`${instancePath(workflow, id)}/events`, { method: "POST", body: { type, payload } });

  /** The instance as it stood after record `seq` of its log (time travel). */
  stateAfter = (workflow: string, id: string, seq: number, signal?: AbortSignal) => this.call<Instant>(`${instancePath(workflow, id)}/state?after=${seq}`, signal ? { signal } : {});

  /** Every step of the current run: the API answers a page at a time. */
  async steps(workflow: string, id: string): Promise<HistoryStep[]> {
    const steps: HistoryStep[] = [];
    for (let after: number | undefined = 0; after !== undefined; ) {
      const page: { steps: HistoryStep[]; next?: number } = await this.call(`${instancePath(workflow, id)}/steps?after=${after}`);
      steps.push(...page.steps);
      after = page.next;
    }
    return steps;
  }

  /** The records after a seq: `limit` of them, or to the end of the log without one, following the API's pages. */
  async records(workflow: string, id: string, after: number, limit?: number): Promise<LogRecord[]> {
    const records: LogRecord[] = [];
    for (;;) {
      const left = limit === undefined ? "" : `&limit=${Math.min(PAGE, limit - records.length)}`;
      const page: { records: LogRecord[]; next?: number } = await this.call(`${instancePath(workflow, id)}/history?after=${after}${left}`);
      records.push(...page.records);
      if (!page.records.length || page.next === undefined || (limit !== undefined && records.length >= limit)) return records;
      after = page.next;
    }
  }
}

export const workflowPath = (workflow: string) => `/workflows/${encodeURIComponent(workflow)}`;
export const instancePath = (workflow: string, id: string) => `${workflowPath(workflow)}/instances/${encodeURIComponent(id)}`;
