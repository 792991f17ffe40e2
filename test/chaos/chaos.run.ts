/**
 * `npm run test:chaos`: the standing chaos suite. It runs the chaos Worker
 * (test/chaos/worker.ts: the three examples, a code-first and a DAG workflow,
 * every step body counted in a ledger object, retries capped at 200 ms)
 * under `wrangler dev` with its state persisted in a fresh temporary
 * directory, and creates hundreds of instances at 32 requests in flight,
 * alone and in batches, sending each its events (some twice, as a duplicate
 * delivery would). Meanwhile it kills workerd with SIGKILL at moments drawn
 * from the seed (while creations, steps and events are under way), starts a
 * new `wrangler dev` on the same directory, and carries on: every request a
 * kill cut off is sent again as it was, same id, same idempotency key.
 *
 * Then it checks, from what it reads back over the HTTP API:
 * - every instance the API accepted (or that answered "already exists" to
 *   a create sent again after a kill) exists and completes, with the
 *   output its scenario expects (test/chaos/scenarios.ts), and does so by
 *   itself once its events are in: the run only reads the registry (which
 *   never wakes an instance) until it counts them all complete, and an
 *   instance whose log completes after the run starts reading statuses was
 *   stuck until asked;
 * - no recorded step ran again: in each whole log, no `step.started` for a
 *   key after its result, attempts rising, each result for the attempt
 *   started last (test/chaos/checks.ts);
 * - step bodies against the ledger: a body ran only for an attempt the log
 *   started, each attempt's body ended at most once, every recorded result
 *   came from a body that ended; bodies that ended but whose result a kill
 *   lost (so they ran again: at-least-once) are counted and printed;
 * - every event sent is in its instance's log once, by idempotency key;
 * - the registry's `list` (all pages) and `counts` equal the instances
 *   that exist, by id and status; then "delete all" leaves `list` empty
 *   and every id can be created again.
 *
 * It prints the seed, the figures (instances, kills, requests accepted and
 * cut off, restart and recovery times, wall time) and every violation with
 * the instance and the records that break the rule, and fails if there is
 * one. Settings, all optional: CHAOS_SEED (a run's plan and kill moments
 * follow from it; timing is real, so interleavings vary), CHAOS_INSTANCES
 * (per workflow, 80), CHAOS_KILLS (5), CHAOS_CONCURRENCY (32),
 * CHAOS_ALONE_MS (how long instances may take to finish by themselves after
 * the last request, 45000), CHAOS_SETTLE_MS (how long they may take once
 * polled, 120000), CHAOS_REGISTRY_MS (how long the registry may take to
 * agree, 30000), CHAOS_KEEP=1 (keep the state directory and server logs).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, it } from "vitest";
import type { LogRecord } from "../../core/records";
import type { InstanceStatus, InstanceStatusName } from "../../core/status";
import { ChaosApi, type Liveness } from "./api";
import { checkEvents, checkLedger, checkRegistry, checkSteps, contains, type Violation } from "./checks";
import { beforeKill, interrupted, resumption, seconds, type KillFigure } from "./kill-figures";
import type { LedgerRow } from "./ledger-row";
import { Random } from "./random";
import { counts, inPool, ledgerRows, listAll, until, wholeLog } from "./readback";
import { SCENARIOS } from "./scenarios";
import { ChaosServer } from "./server";
import { instancePath as path, plan, Workload, type Tracked } from "./workload";

const setting = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return value;
};

const seed = setting("CHAOS_SEED", Math.floor(Math.random() * 2 ** 31));
const perWorkflow = setting("CHAOS_INSTANCES", 80);
const kills = setting("CHAOS_KILLS", 5);
const concurrency = setting("CHAOS_CONCURRENCY", 32);
const settleMs = setting("CHAOS_SETTLE_MS", 120_000);
const registryMs = setting("CHAOS_REGISTRY_MS", 30_000);
/** An instance a kill caught mid-step is woken by its keep-alive alarm within 30 s (KEEPALIVE_MS), or sooner by a retry's. */
const aloneMs = setting("CHAOS_ALONE_MS", 45_000);
const keep = process.env.CHAOS_KEEP === "1";

const TERMINAL: InstanceStatusName[] = ["complete", "errored", "terminated"];
/** Work after a restart before the next kill may come, so the cut-off requests go through and new ones start. */
const MIN_UPTIME_MS = 500;

const base = mkdtempSync(join(tmpdir(), "dm-chaos-"));
const server = new ChaosServer(join(base, "state"), base);

afterAll(async () => {
  server.kill();
  await server.gone().catch((error) => console.error(error));
  if (keep) console.log(`chaos: state and server logs kept in ${base}`);
  else rmSync(base, { recursive: true, force: true });
});

/** The server's liveness as the run moves it: the gate closes (and the generation moves on) before a kill, and opens once the new server answers. */
class Gate implements Liveness {
  generation = 0;
  private open: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  get url() {
    return server.url;
  }

  up() {
    return this.open;
  }

  close() {
    this.generation++;
    this.open = new Promise((resolve) => (this.release = resolve));
  }

  reopen() {
    this.release();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const name = (instance: Tracked) => `${instance.workflow}/${instance.id}`;

function show(violation: Violation): string {
  const records = (violation.records ?? []).map((record) => `      ${JSON.stringify(record)?.slice(0, 600)}`);
  return [`  ${violation.instance}: ${violation.rule}: ${violation.detail}`, ...records].join("\n");
}

it(`chaos: kill -9 of workerd while instances run; nothing accepted is lost, nothing recorded runs again`, async () => {
  const began = performance.now();
  const startedAt = Date.now();
  const gate = new Gate();
  const api = new ChaosApi(gate);
  const violations: Violation[] = [];
  const killed: KillFigure[] = [];
  console.log(`chaos: seed ${seed} (CHAOS_SEED=${seed} npm run test:chaos repeats its plan and kill moments), ${SCENARIOS.length} workflows x ${perWorkflow} instances, ${kills} kills, ${concurrency} requests at once`);

  const firstStart = await server.start();
  const jobs = plan(new Random(seed), perWorkflow);
  const instances = jobs.flat();
  const workload = new Workload(api);
  let workloadError: unknown;
  const running = workload.run(jobs, concurrency).catch((error) => (workloadError = error));

  // The kills, at moments the seed draws: when a share of the jobs has started, plus up to 300 ms.
  const moments = new Random(seed ^ 0x5bd1e995);
  let readyAt = performance.now();
  for (let n = 1; n <= kills; n++) {
    const threshold = Math.floor((jobs.length * (n - 1 + 0.15 + 0.7 * moments.next())) / (kills + 0.5));
    const pause = moments.int(0, 300);
    const deadline = performance.now() + 180_000;
    while ((workload.started < threshold || performance.now() - readyAt < MIN_UPTIME_MS) && workloadError === undefined) {
      if (performance.now() > deadline) throw new Error(`kill ${n}: the workload did not reach job ${threshold} within 180 s (at ${workload.started})`);
      await sleep(10);
    }
    if (workloadError !== undefined) break;
    await sleep(pause);
    const sample = workload.created.slice(-20);
    const figure: Pick<KillFigure, "n" | "at" | "jobsStarted" | "inFlight"> = { n, at: Date.now(), jobsStarted: workload.started, inFlight: { ...workload.inFlight } };
    const killedAt = performance.now();
    gate.close();
    const { workerd } = server.kill();
    await server.gone();
    await server.start();
    readyAt = performance.now();
    gate.reopen();
    const readyEpoch = Date.now();
    await Promise.all(sample.map((instance) => api.read(path(instance))));
    killed.push({ ...figure, workerd, readyEpoch, restartMs: readyAt - killedAt, firstAnswersMs: sample.length ? performance.now() - readyAt : undefined });
  }
  await running;
  if (workloadError !== undefined) throw workloadError;
  const lastRequest = performance.now();
  const requests = { ...api.figures };

  for (const instance of instances) {
    for (const refusal of instance.refusals) violations.push({ instance: name(instance), rule: "refused", detail: refusal });
    if (!instance.created) violations.push({ instance: name(instance), rule: "never created", detail: "the create was never answered 201 or, after a cut-off, 409" });
  }
  const existing = instances.filter((instance) => instance.created);

  // Nothing is stuck: with everything it waits for sent, every instance finishes without being asked. Only the
  // registry is read meanwhile (listing never wakes an instance), until it counts every instance complete.
  const workflows = SCENARIOS.map((scenario) => scenario.workflow);
  const total = (workflow: string) => existing.filter((instance) => instance.workflow === workflow).length;
  const notAllComplete = await until(aloneMs, async () => {
    const complete = await Promise.all(workflows.map(async (workflow) => (await counts(api, workflow)).complete ?? 0));
    return workflows.filter((workflow, i) => complete[i] !== total(workflow));
  }, 500);
  const askedAt = Date.now();
  const aloneForMs = performance.now() - lastRequest;

  // Every instance finishes: polled (which also wakes any object a kill left idle) until none is left or the deadline passes.
  const statuses = new Map<Tracked, InstanceStatus>();
  const unfinished = await until(settleMs, async () => {
    const left = existing.filter((instance) => !TERMINAL.includes(statuses.get(instance)?.status ?? "unknown"));
    await inPool(left, concurrency, async (instance) => statuses.set(instance, await api.read<InstanceStatus>(path(instance))));
    return left.filter((instance) => !TERMINAL.includes(statuses.get(instance)!.status));
  });
  const settledMs = performance.now() - lastRequest;

  const logs = new Map<Tracked, LogRecord[]>();
  await inPool(existing, concurrency, async (instance) => logs.set(instance, await wholeLog(api, instance)));
  const rows = await ledgerRows(api);
  const rowsByInstance = new Map<string, LedgerRow[]>();
  for (const row of rows) rowsByInstance.set(row.instance, [...(rowsByInstance.get(row.instance) ?? []), row]);
  const known = new Set(existing.map(name));
  for (const [instance, counted] of rowsByInstance) {
    if (!known.has(instance)) violations.push({ instance, rule: "body of no instance", detail: "the ledger counts step bodies of an instance the run does not know", records: counted });
  }

  const ledger = { endedButLost: 0, cutOff: 0, bodies: rows.reduce((sum, row) => sum + row.runs, 0) };
  for (const instance of existing) {
    const status = statuses.get(instance)!;
    const log = logs.get(instance)!;
    const tail = log.slice(-8);
    if (unfinished.includes(instance)) violations.push({ instance: name(instance), rule: "did not finish", detail: `still ${status.status} (${JSON.stringify(status.value)}) ${seconds(settleMs)} after the last request; the log's tail follows`, records: tail });
    else if (status.status !== "complete") violations.push({ instance: name(instance), rule: "did not complete", detail: `ended ${status.status}: ${JSON.stringify(status.error)}`, records: tail });
    else if (!contains(status.output, instance.scenario.output)) {
      violations.push({ instance: name(instance), rule: "wrong output", detail: `output ${JSON.stringify(status.output)} lacks ${JSON.stringify(instance.scenario.output)}` });
    }
    const completed = log.find((record) => record.type === "instance.completed");
    if (completed && completed.at >= askedAt) {
      const before = log.filter((record) => record.at < askedAt);
      violations.push({
        instance: name(instance),
        rule: "finished only when asked",
        detail: `it completed only once the run read its status, ${seconds(aloneForMs)} after the last request; it had stood still since ${beforeKill(killed, before.at(-1)!.at)}: its log up to then follows`,
        records: before.slice(-5),
      });
    }
    violations.push(...checkSteps(name(instance), log));
    violations.push(...checkEvents(name(instance), log, instance.events));
    const checked = checkLedger(name(instance), log, rowsByInstance.get(name(instance)) ?? []);
    violations.push(...checked.violations);
    ledger.endedButLost += checked.figures.endedButLost;
    ledger.cutOff += checked.figures.cutOff;
  }
  const logsByPath = new Map([...logs].map(([instance, log]) => [path(instance), log] as const));
  killed.forEach((figure, i) => {
    const { steps, alone, woken } = interrupted(logsByPath, api.sentAt, killed[i - 1]?.at ?? 0, figure.at, figure.readyEpoch);
    figure.stepsRunning = steps;
    figure.resumed = { alone, woken };
  });

  // The registry agrees with the instances, by id and status, once it has had time to hear from them.
  const truth = (workflow: string) => new Map(existing.filter((instance) => instance.workflow === workflow).map((instance) => [instance.id, statuses.get(instance)!.status]));
  const registryStarted = performance.now();
  const registryViolations = await until(registryMs, async () => (await Promise.all(workflows.map(async (workflow) => checkRegistry(workflow, truth(workflow), await listAll(api, workflow), await counts(api, workflow))))).flat(), 500);
  const byName = new Map(existing.map((instance) => [name(instance), instance]));
  // An instance the registry has wrong: when it last changed, against the kills, and the records it ended with.
  for (const violation of registryViolations) {
    const instance = byName.get(violation.instance);
    const log = instance && logs.get(instance);
    if (!log) violations.push(violation);
    else violations.push({ ...violation, detail: `${violation.detail}; its last record was written ${beforeKill(killed, log.at(-1)!.at)}`, records: log.slice(-3) });
  }
  const registryAgreedMs = registryViolations.length ? undefined : performance.now() - registryStarted;

  // Delete all, then nothing is listed, every id is gone and can be created again.
  let deleted = 0;
  for (const workflow of workflows) {
    const answer = await api.persist("DELETE", `/api/workflows/${workflow}/instances`);
    if (answer.status !== 200) violations.push({ instance: workflow, rule: "delete all failed", detail: `answered ${answer.status}: ${JSON.stringify(answer.body)}` });
    else deleted += answer.body.deleted;
    const left = await listAll(api, workflow);
    if (left.length) violations.push({ instance: workflow, rule: "listed after delete all", detail: `${left.length} still listed: ${left.slice(0, 10).map((entry) => entry.id).join(", ")}…` });
    const after = await counts(api, workflow);
    if (Object.values(after).some((count) => count !== 0)) violations.push({ instance: workflow, rule: "counted after delete all", detail: JSON.stringify(after) });
  }
  await inPool(existing, concurrency, async (instance) => {
    const status = await api.persist("GET", path(instance));
    if (status.status !== 404) violations.push({ instance: name(instance), rule: "survived delete all", detail: `status answered ${status.status}: ${JSON.stringify(status.body)}` });
    const again = await api.persist("POST", `/api/workflows/${instance.workflow}/instances`, { id: instance.id, params: instance.scenario.params });
    if (again.status !== 201) violations.push({ instance: name(instance), rule: "not creatable after delete all", detail: `create answered ${again.status}: ${JSON.stringify(again.body)}` });
  });
  for (const problem of api.unexplained) violations.push({ instance: problem.path, rule: "unexplained answer", detail: `${problem.method} ${problem.path}: ${problem.what}` });

  const accepted = existing.filter((instance) => instance.created === "accepted").length;
  const events = instances.flatMap((instance) => [...instance.sent.values()]);
  const lines = [
    `chaos: seed ${seed}`,
    `  instances: ${instances.length} planned (${SCENARIOS.map((s) => s.workflow).join(", ")}), ${jobs.length} create requests (${jobs.filter((job) => job.length > 1).length} batches); ${accepted} created with a 2xx, ${existing.length - accepted} found existing (409) when sent again after a cut-off`,
    `  requests while killing: ${requests.sent} sent, ${requests.accepted} accepted (2xx), ${requests.refused} refused (409 to a create or an event sent again), ${requests.cutOff} cut off by kills and sent again`,
    `  events: ${events.reduce((sum, e) => sum + e.sends, 0)} sends of ${events.length} events (${instances.flatMap((i) => i.events).filter((e) => e.duplicate).length} sent twice on purpose), ${events.reduce((sum, e) => sum + e.cutOffs, 0)} sends cut off`,
    `  server: first start ${seconds(firstStart.readyMs)}; ${killed.length} kills (SIGKILL of workerd, then its process group), each followed by a new wrangler dev on the same state:`,
    ...killed.map(
      (k) =>
        `    kill ${k.n} at ${seconds(k.at - startedAt)}: ${k.jobsStarted}/${jobs.length} jobs started, ${k.inFlight.creates} creates and ${k.inFlight.events} events in flight, ${k.stepsRunning} step attempts running; workerd ${k.workerd.join(", ")}; back in ${seconds(k.restartMs)}${k.firstAnswersMs === undefined ? "" : `, status from the 20 instances created last in ${seconds(k.firstAnswersMs)}`}${resumption(k.resumed!)}`,
    ),
    `  step bodies (ledger): ${ledger.bodies} ended; ${ledger.endedButLost} ended but a kill lost their result, so they ran again (at-least-once); ${ledger.cutOff} attempts cut off before their body ended`,
    `  settled: ${notAllComplete.length ? `the registry did not count every instance complete within ${seconds(aloneMs)} of the last request` : `every instance complete by itself (its alarms; no request reached it) ${seconds(aloneForMs)} after the last request, by the registry's counts`}; ${existing.length - unfinished.length}/${existing.length} finished when read (${[...statuses.values()].filter((s) => s.status === "complete").length} complete), ${seconds(settledMs)} after the last request`,
    `  registry: ${registryAgreedMs === undefined ? `still disagreed after ${seconds(registryMs)}` : `agreed with the instances after ${seconds(registryAgreedMs)}`}; delete all deleted ${deleted}`,
    `  wall time: ${seconds(performance.now() - began)}`,
  ];
  console.log(lines.join("\n"));
  if (!violations.length) {
    console.log("chaos: no violations");
    return;
  }
  const byRule = new Map<string, Violation[]>();
  for (const violation of violations) byRule.set(violation.rule, [...(byRule.get(violation.rule) ?? []), violation]);
  const report = join(tmpdir(), `dm-chaos-violations-${seed}.json`);
  writeFileSync(report, JSON.stringify(violations, null, 2));
  const shown = [...byRule].map(([rule, list]) => [`${rule}: ${list.length}`, ...list.slice(0, 5).map(show), ...(list.length > 5 ? [`  … and ${list.length - 5} more`] : [])].join("\n"));
  throw new Error(`chaos: ${violations.length} violations (seed ${seed}; all of them in ${report}):\n${shown.join("\n")}`);
});
