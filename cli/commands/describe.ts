import { apiPath } from "../api";
import { WORKFLOW, type Command, type CommandContext } from "../command";
import { compact, duration, fields, relativeTime, table } from "../format";
import type { CountsAnswer, StatusAnswer, Step, StepsAnswer } from "../wire";

async function describeWorkflow({ api, io, json }: CommandContext, workflow: string): Promise<void> {
  const answer = await api.call<CountsAnswer>("GET", apiPath(["workflows", workflow]));
  if (json) return io.out(`${JSON.stringify(answer, null, 2)}\n`);
  const total = Object.values(answer.counts).reduce((sum, n) => sum + n, 0);
  io.out(fields([["Workflow", answer.name], ["Instances", String(total)]]));
  io.out("\n");
  io.out(table([{ header: "STATUS" }, { header: "COUNT" }], Object.entries(answer.counts).map(([status, n]) => [status, String(n)]), io.columns));
}

/** Every step of the current run, page after page. */
async function allSteps({ api }: CommandContext, workflow: string, id: string): Promise<Step[]> {
  const steps: Step[] = [];
  let after: number | undefined = 0;
  while (after !== undefined) {
    const page: StepsAnswer = await api.call<StepsAnswer>("GET", apiPath(["workflows", workflow, "instances", id, "steps"], { after }));
    steps.push(...page.steps);
    after = page.next;
  }
  return steps;
}

function stepState(step: Step): string {
  if (step.cancelled) return "cancelled";
  if (step.success === null) return "running";
  return step.success ? "succeeded" : "failed";
}

/** A step's output, or its error: the step's own, or while it waits for a retry, its last attempt's. */
function stepResult(step: Step): string {
  const lastAttempt = step.attempts.at(-1);
  const error = step.error ?? (step.success === null && lastAttempt?.success === false ? lastAttempt.error : undefined);
  if (error) return `${error.name}: ${error.message}`;
  return compact(step.output);
}

async function describeInstance(context: CommandContext, workflow: string, id: string): Promise<void> {
  const { api, io, json } = context;
  const status = await api.call<StatusAnswer>("GET", apiPath(["workflows", workflow, "instances", id]));
  const steps = await allSteps(context, workflow, id);
  if (json) return io.out(`${JSON.stringify({ ...status, steps }, null, 2)}\n`);
  const now = io.now();
  io.out(
    fields([
      ["Instance", `${status.id} (${workflow})`],
      ["Status", status.status],
      ["State", compact(status.value)],
      ...(status.output === undefined ? [] : [["Output", compact(status.output)] as const]),
      ...(status.error === undefined ? [] : [["Error", `${status.error.name}: ${status.error.message}`] as const]),
    ]),
  );
  io.out("\n");
  if (steps.length === 0) return io.out("No steps yet.\n");
  const rows = steps.map((step) => [
    step.key,
    step.kind,
    stepState(step),
    String(step.attempts.length),
    relativeTime(step.start, now),
    step.duration === undefined ? "-" : duration(step.duration),
    stepResult(step),
  ]);
  io.out(
    table(
      [{ header: "STEP", cut: "middle" }, { header: "KIND" }, { header: "STATE" }, { header: "ATTEMPTS" }, { header: "STARTED" }, { header: "TOOK" }, { header: "RESULT", cut: "end" }],
      rows,
      io.columns,
    ),
  );
}

export const describe: Command = {
  name: "describe",
  summary: "Describes a workflow (its instances per status) or an instance (its status and its steps).",
  details: [
    "With <id>: the instance's status, state, output or error, then every step of its current run: its key (what",
    "`restart --from` takes), kind, state, attempts, when it started, how long it took, and its output or error.",
    "",
    "  durable-machines describe order",
    "  durable-machines describe order order-17",
  ].join("\n"),
  positionals: [
    WORKFLOW,
    { name: "id", optional: true, description: "an instance's id" },
  ],
  options: {},
  usesApi: true,
  run: (context) => (context.args.id === undefined ? describeWorkflow(context, context.args.workflow!) : describeInstance(context, context.args.workflow!, context.args.id)),
};
