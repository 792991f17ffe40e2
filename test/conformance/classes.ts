import { WorkflowEntrypoint as CloudflareEntrypoint, type WorkflowEvent as CfEvent, type WorkflowStep as CfStep } from "cloudflare:workers";
import { defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";
import type { TestEnv } from "../workflows";
import { bodies, type BodyName, type Params } from "./bodies";

function cloudflareClass(name: BodyName) {
  return class extends CloudflareEntrypoint<TestEnv, Params> {
    override async run(event: CfEvent<Params>, step: CfStep) {
      return bodies[name](event as unknown as WorkflowEvent<Params>, step as unknown as WorkflowStep, this.env) as Promise<never>;
    }
  };
}

function ourClass(name: BodyName) {
  return class extends WorkflowEntrypoint<TestEnv, Params> {
    async run(event: WorkflowEvent<Params>, step: WorkflowStep) {
      return bodies[name](event, step, this.env);
    }
  };
}

/** Cloudflare's engine finds its classes by export name; see the [[workflows]] entries in test/wrangler.toml. */
export const CfSequential = cloudflareClass("sequential");
export const CfRetries = cloudflareClass("retries");
export const CfNonRetryable = cloudflareClass("nonRetryable");
export const CfCaught = cloudflareClass("caught");
export const CfCustomError = cloudflareClass("customError");
export const CfSleeps = cloudflareClass("sleeps");
export const CfWaits = cloudflareClass("waits");
export const CfFanOut = cloudflareClass("fanOut");
export const CfLoop = cloudflareClass("loop");
export const CfHeld = cloudflareClass("held");
export const CfPausable = cloudflareClass("pausable");
export const CfSaga = cloudflareClass("saga");
export const CfStructured = cloudflareClass("structured");
export const CfSagaChain = cloudflareClass("sagaChain");
export const CfStepInRollback = cloudflareClass("stepInRollback");
export const CfRestartable = cloudflareClass("restartable");
export const CfContexts = cloudflareClass("contexts");
export const CfDelays = cloudflareClass("delays");
export const CfConfigs = cloudflareClass("configs");
export const CfNames = cloudflareClass("names");
export const CfLimited = cloudflareClass("limited");
export const CfUntilReplay = cloudflareClass("untilReplay");
export const CfConsumedOnce = cloudflareClass("consumedOnce");
export const CfSleepNames = cloudflareClass("sleepNames");
export const CfOutsideLimits = cloudflareClass("outsideLimits");
export const CfShapes = cloudflareClass("shapes");
export const CfRichOutput = cloudflareClass("richOutput");
export const CfReturnsNothing = cloudflareClass("returnsNothing");
export const CfStreamed = cloudflareClass("streamed");

/** Step limits other than the default, the same on both engines (Cloudflare's: `limits.steps` in test/wrangler.toml). */
const stepLimits: Partial<Record<BodyName, number>> = { limited: 3 };

export const conformanceWorkflows = (Object.keys(bodies) as BodyName[]).map((name) => defineWorkflow({ name: `dm-${name}`, entrypoint: ourClass(name), ...(stepLimits[name] ? { stepLimit: stepLimits[name] } : {}) }));
