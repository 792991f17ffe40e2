import { ORDERS, ORDERS_DONE } from "../../machines/data-pipeline.scenario";
import { DELIVERED, WEEK } from "../../machines/grocery-agent.scenario";
import { APPROVED_IN_ROUND_3, CATS } from "../../machines/training-loop.scenario";

/**
 * What the chaos run does with each workflow of the chaos Worker: the params
 * every instance is created with, the events sent to it (in this order, each
 * once accepted before the next), and the output it must end with. Shared by
 * the chaos Worker (test/chaos/workflows.ts) and the run (test/chaos/chaos.run.ts).
 */
export interface Scenario {
  workflow: string;
  params: unknown;
  events: { type: string; payload?: unknown }[];
  /** The instance's output must contain this (objects by their listed fields, arrays and the rest exactly). */
  output: unknown;
}

export const FULFILMENT_ITEMS = ["kettle", "mugs", "tea"];

export interface FulfilmentParams {
  order: string;
  items: string[];
}

export interface FulfilmentOutput {
  order: string;
  reserved: number;
  receipt: string;
  approvedBy: string;
  packed: string[];
  tracking: string;
}

export const RELEASE_COMPONENTS = ["api", "worker", "dashboard", "docs"];

export interface ReleaseParams {
  version: string;
}

export interface ReleaseOutput {
  version: string;
  artifacts: string[];
  signedOffBy: string;
  published: string;
}

export const SCENARIOS: Scenario[] = [
  {
    workflow: "training-loop",
    params: CATS,
    // Round 2 asks for a review (its loss is under the target): rejected, so round 3 runs and is approved.
    events: [
      { type: "feedback", payload: { approve: false, note: "more epochs" } },
      { type: "feedback", payload: { approve: true } },
    ],
    output: APPROVED_IN_ROUND_3,
  },
  { workflow: "data-pipeline", params: ORDERS, events: [], output: ORDERS_DONE },
  { workflow: "grocery-agent", params: WEEK, events: [{ type: "delivered", payload: { receivedBy: "front desk" } }], output: DELIVERED },
  {
    workflow: "chaos-fulfilment",
    params: { order: "A-17", items: FULFILMENT_ITEMS } satisfies FulfilmentParams,
    events: [{ type: "approve", payload: { by: "Ada" } }],
    output: {
      order: "A-17",
      reserved: FULFILMENT_ITEMS.length,
      receipt: "rcpt-A-17",
      approvedBy: "Ada",
      packed: FULFILMENT_ITEMS.map((item) => `box:${item}`),
      tracking: "trk-A-17",
    } satisfies FulfilmentOutput,
  },
  {
    workflow: "chaos-release",
    params: { version: "1.2.3" } satisfies ReleaseParams,
    events: [{ type: "signoff", payload: { by: "Grace" } }],
    output: {
      version: "1.2.3",
      artifacts: RELEASE_COMPONENTS.map((component) => `${component}-1.2.3.tgz`),
      signedOffBy: "Grace",
      published: "release 1.2.3 (4 artifacts)",
    } satisfies ReleaseOutput,
  },
];
