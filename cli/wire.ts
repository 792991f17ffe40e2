/**
 * The HTTP API's answers as the CLI reads them (adapters/worker/api/schemas.ts
 * defines them; GET /api/openapi.json documents them). Written out here
 * rather than imported, since the CLI reads JSON off the wire and only these
 * fields.
 */

export interface StatusAnswer {
  id: string;
  status: string;
  value: unknown;
  output?: unknown;
  error?: { name: string; message: string };
}

export interface CountsAnswer {
  name: string;
  counts: Record<string, number>;
}

export interface InstanceSummary {
  id: string;
  status: string;
  createdAt: number;
  updatedAt: number;
}

export interface ListAnswer {
  instances: InstanceSummary[];
  cursor?: string;
}

export interface LogRecord {
  seq: number;
  at: number;
  type: string;
  data: unknown;
}

export interface HistoryAnswer {
  records: LogRecord[];
  next?: number;
}

export interface Step {
  key: string;
  name: string;
  count: number;
  kind: string;
  start: number;
  end?: number;
  duration?: number;
  success: boolean | null;
  cancelled?: true;
  attempts: { attempt: number; success: boolean | null; error?: { name: string; message: string } }[];
  output?: unknown;
  error?: { name: string; message: string };
}

export interface StepsAnswer {
  steps: Step[];
  next?: number;
}

export interface InstanceEvent {
  eventId: number;
  timestamp: number;
  type: string;
  stepName?: string;
  [field: string]: unknown;
}
