import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";

/**
 * The bench's cross-check (bench/run.ts, `crosscheck`): Cloudflare's local Workflows engine driven the simplest way,
 * with no code of durable-machines. A workflow of n trivial steps in a row (one name repeated, or a name each), each
 * returning the time its body ran; the Worker creates an instance, reads its status every `poll` ms until it is
 * complete, and answers how long that took, and the time from the first step's body to the last's, which the
 * workflow returns as its output.
 */
interface Params {
  n: number;
  unique: boolean;
}

interface Env {
  CHAIN: Workflow<Params>;
}

export class Chain extends WorkflowEntrypoint<Env, Params> {
  override async run(event: WorkflowEvent<Params>, step: WorkflowStep) {
    const { n, unique } = event.payload;
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(await step.do(unique ? `step-${i}` : "step", async () => Date.now()));
    return { first: times[0]!, last: times.at(-1)! };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const query = new URL(request.url).searchParams;
    const n = Number(query.get("n"));
    const poll = Number(query.get("poll") ?? "100");
    const start = Date.now();
    const instance = await env.CHAIN.create({ params: { n, unique: query.get("names") === "unique" } });
    for (;;) {
      const { status, output } = await instance.status();
      if (status === "complete") {
        const ms = Date.now() - start;
        const { first, last } = output as { first: number; last: number };
        return Response.json({ ms, perStep: ms / n, stepUs: ((last - first) * 1000) / (n - 1) });
      }
      if (status === "errored" || status === "terminated") return Response.json({ error: `the instance ended ${status}` }, { status: 500 });
      await new Promise((resolve) => setTimeout(resolve, poll));
    }
  },
} satisfies ExportedHandler<Env>;
