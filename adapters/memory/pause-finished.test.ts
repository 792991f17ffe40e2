import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  dagTasks,
  defineDag,
  defineWorkflow,
  NonRetryableError,
  step,
  WorkflowEntrypoint,
  type InstanceHandle,
  type MemoryHost,
  type WorkflowDefinition,
  type CodeWorkflowDefinition,
  type WorkflowEvent,
  type StepArgs,
  type WorkflowStep,
} from "../../index";

/**
 * pause() of a finished instance does nothing and succeeds, as on Cloudflare:
 * both of its engines return from pause() unless the instance runs or waits
 * (workers-sdk's packages/workflows-shared/src/engine.ts, userTriggeredPause;
 * the engine in workerd does the same). resume() and terminate() of a
 * finished instance are refused, as there.
 */
type Ending = "complete" | "errored" | "terminated";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: MemoryHost) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

/** Each kind of workflow, with params that end its run as each ending asks (terminated: it waits for an event that never comes). */
const KINDS: [string, WorkflowDefinition | CodeWorkflowDefinition][] = [
  [
    "machine",
    defineWorkflow({
      name: "machine",
      machine: setup({
        types: { context: {} as { ending: Ending }, input: {} as { ending: Ending } },
        actors: {
          work: step(async ({ input }: StepArgs<{ ending: Ending }>) => {
            if (input.ending === "errored") throw new NonRetryableError("failed on purpose");
            return "worked";
          }),
        },
      }).createMachine({
        id: "machine",
        context: ({ input }) => ({ ending: input.ending }),
        initial: "working",
        states: {
          working: { invoke: { src: "work", input: ({ context }) => ({ ending: context.ending }), onDone: [{ guard: ({ context }) => context.ending === "complete", target: "done" }, { target: "waiting" }] } },
          waiting: { on: { go: "done" } },
          done: { type: "final" },
        },
      }),
    }),
  ],
  [
    "code-first",
    defineWorkflow({
      name: "code-first",
      entrypoint: class extends WorkflowEntrypoint<unknown, { ending: Ending }> {
        async run(event: WorkflowEvent<{ ending: Ending }>, step: WorkflowStep) {
          await step.do("work", async () => {
            if (event.payload.ending === "errored") throw new NonRetryableError("failed on purpose");
          });
          if (event.payload.ending === "terminated") await step.waitForEvent("hold", { type: "go" });
        }
      },
    }),
  ],
  [
    "DAG",
    defineDag({
      name: "DAG",
      tasks: dagTasks<{ ending: Ending }>()
        .task("work", {
          run: (_, { params }) => {
            if (params.ending === "errored") throw new NonRetryableError("failed on purpose");
            return params.ending;
          },
        })
        .sleep("hold", { needs: ["work"], duration: "1 day" }),
    }),
  ],
];

const ENDINGS: Ending[] = ["complete", "errored", "terminated"];

async function finished(kind: string, def: WorkflowDefinition | CodeWorkflowDefinition, ending: Ending): Promise<InstanceHandle> {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [def], clock });
  const instance = await host.workflow(def.name).create({ id: `${kind}-${ending}`, params: { ending } });
  await settle(host);
  if (ending === "terminated") await instance.terminate();
  // A DAG that should complete sleeps a day first.
  clock.advance(86_400_000);
  await settle(host);
  expect((await instance.status()).status).toBe(ending);
  return instance;
}

describe("pause() of a finished instance", () => {
  for (const [kind, def] of KINDS) {
    it.each(ENDINGS)(`${kind}: pause() of a %s instance succeeds and writes nothing; resume() and terminate() are refused`, async (ending) => {
      const instance = await finished(kind, def, ending);
      const log = await instance.history();
      const status = await instance.status();
      await instance.pause();
      expect(await instance.history()).toEqual(log);
      expect(await instance.status()).toEqual(status);
      await expect(instance.resume()).rejects.toMatchObject({ code: "instance.cannot_resume" });
      await expect(instance.terminate()).rejects.toMatchObject({ code: "instance.cannot_terminate" });
      expect(await instance.history()).toEqual(log);
    });
  }
});
