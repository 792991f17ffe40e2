import type { ChaosApi } from "./api";
import type { Random } from "./random";
import { SCENARIOS, type Scenario } from "./scenarios";

/**
 * What the run asks of the server, and what it was told. The plan follows
 * from the seed: which workflow each instance runs, whether it is created
 * alone or in a batch, how long each event waits before it is sent, which
 * accepted events are sent a second time. Every request a kill cuts off is
 * sent again as it was (same id, same idempotency key) until it is answered.
 */

export interface PlannedEvent {
  key: string;
  type: string;
  payload?: unknown;
  /** Milliseconds after the previous event was accepted (or the instance created). */
  delayMs: number;
  /** Sent once more after it was accepted: a duplicate delivery, to be recorded once. */
  duplicate: boolean;
}

export interface Tracked {
  workflow: string;
  id: string;
  scenario: Scenario;
  events: PlannedEvent[];
  /** How creating it ended: `accepted` (a 2xx), or `existed` (409 when sent again after a kill cut the first try off). */
  created?: "accepted" | "existed";
  /** Requests that were cut off while creating it. */
  createCutOffs: number;
  /** Per event, by key: the last answer's status (202, or 409 once the instance had finished) and the sends a kill cut off. */
  sent: Map<string, { status: number; cutOffs: number; sends: number }>;
  /** Answers no rule allows (a create or an event refused outright): reported as violations. */
  refusals: string[];
}

/** Instances created by one request: one alone, or several in a batch. */
export type Job = Tracked[];

const MAX_BATCH = 6;

/** An instance's path in the HTTP API: its status; its other routes are under it. */
export const instancePath = (instance: Tracked) => `/api/workflows/${instance.workflow}/instances/${encodeURIComponent(instance.id)}`;

export function plan(random: Random, perWorkflow: number): Job[] {
  const jobs: Job[] = [];
  for (const scenario of SCENARIOS) {
    const instances = Array.from({ length: perWorkflow }, (_, n): Tracked => {
      const id = `${scenario.workflow}-${n}`;
      const events = scenario.events.map((event, i) => ({ ...event, key: `${id}:${event.type}:${i}`, delayMs: random.int(0, 400), duplicate: random.chance(0.15) }));
      return { workflow: scenario.workflow, id, scenario, events, createCutOffs: 0, sent: new Map(), refusals: [] };
    });
    for (let i = 0; i < instances.length; ) {
      const size = random.chance(0.3) ? random.int(2, MAX_BATCH) : 1;
      jobs.push(instances.slice(i, i + size));
      i += size;
    }
  }
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }
  return jobs;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Workload {
  /** Jobs taken up so far: the kills are timed by it. */
  started = 0;
  /** Requests under way now, by kind: what a kill cuts off. */
  readonly inFlight = { creates: 0, events: 0 };
  /** Instances whose create was answered, in the order they were. */
  readonly created: Tracked[] = [];

  constructor(private readonly api: ChaosApi) {}

  async run(jobs: Job[], concurrency: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        this.started++;
        await this.create(job);
        await Promise.all(job.filter((instance) => instance.created).map((instance) => this.sendEvents(instance)));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  private async tracked<T>(kind: keyof Workload["inFlight"], request: () => Promise<T>): Promise<T> {
    this.inFlight[kind]++;
    try {
      return await request();
    } finally {
      this.inFlight[kind]--;
    }
  }

  private async create(job: Job): Promise<void> {
    const [first] = job;
    const workflow = first!.workflow;
    const onCut = () => job.forEach((instance) => instance.createCutOffs++);
    if (job.length === 1) {
      const answer = await this.tracked("creates", () => this.api.persist("POST", `/api/workflows/${workflow}/instances`, { id: first!.id, params: first!.scenario.params }, onCut, [instancePath(first!)]));
      this.settle(first!, answer.status, answer.body);
      return;
    }
    const body = { instances: job.map((instance) => ({ id: instance.id, params: instance.scenario.params })) };
    const answer = await this.tracked("creates", () => this.api.persist("POST", `/api/workflows/${workflow}/instances/batch`, body, onCut, job.map(instancePath)));
    if (answer.status !== 201 && answer.status !== 207) {
      job.forEach((instance) => instance.refusals.push(`batch create answered ${answer.status}: ${JSON.stringify(answer.body)}`));
      return;
    }
    const errors = new Map<string, { code: string; message: string }>((answer.body.errors ?? []).map((error: { id: string; code: string; message: string }) => [error.id, error]));
    for (const instance of job) {
      const error = errors.get(instance.id);
      this.settle(instance, error ? (error.code === "instance.already_exists" ? 409 : 400) : 201, error ? { error } : answer.body);
    }
  }

  /** 201: accepted. 409 already_exists is the answer to a create sent again after a kill cut it off, never to a first try. */
  private settle(instance: Tracked, status: number, body: any): void {
    if (status === 201) instance.created = "accepted";
    else if (status === 409 && body?.error?.code === "instance.already_exists" && instance.createCutOffs > 0) instance.created = "existed";
    else instance.refusals.push(`create answered ${status}: ${JSON.stringify(body)}`);
    if (instance.created) this.created.push(instance);
  }

  private async sendEvents(instance: Tracked): Promise<void> {
    for (const event of instance.events) {
      await sleep(event.delayMs);
      const accepted = await this.sendEvent(instance, event);
      if (accepted && event.duplicate) await this.sendEvent(instance, event);
    }
  }

  /** True when the answer was 202. A 409 `instance.finished` is allowed only once a send was cut off (the instance may have finished on that one). */
  private async sendEvent(instance: Tracked, event: PlannedEvent): Promise<boolean> {
    const record = instance.sent.get(event.key) ?? { status: 0, cutOffs: 0, sends: 0 };
    instance.sent.set(event.key, record);
    record.sends++;
    const path = `${instancePath(instance)}/events`;
    const body = { type: event.type, ...(event.payload === undefined ? {} : { payload: event.payload }), idempotencyKey: event.key };
    const answer = await this.tracked("events", () => this.api.persist("POST", path, body, () => record.cutOffs++));
    record.status = answer.status;
    if (answer.status === 202) return true;
    const finished = answer.status === 409 && answer.body?.error?.code === "instance.finished";
    if (!(finished && (record.cutOffs > 0 || record.sends > 1))) instance.refusals.push(`event ${event.key} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return false;
  }
}
