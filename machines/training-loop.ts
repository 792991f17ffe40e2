import { assign, setup } from "xstate";
import { defineWorkflow, step, type StepArgs } from "../index";
import { required } from "./params";

/**
 * An AI training loop: label a dataset once, then per round feed the model,
 * train it and evaluate its loss. While the loss is above the target and
 * rounds remain, it trains again on its own; otherwise a person reviews the
 * round (a `feedback` event) within a 24-hour window: approve stops, reject
 * trains another round (until `maxRounds`), silence times out.
 *
 * Nothing outside is called: the labeler, the data feed, the trainer and the
 * evaluator are simulated, deterministically, inside the step bodies. The
 * trainer is preempted once, on the first attempt of round 1, so the retry
 * policy shows in the history.
 */

export interface TrainingParams {
  dataset: string;
  /** Rounds of feed, train, evaluate allowed in all; 3 unless given. */
  maxRounds?: number;
  /** A round whose loss is above this trains again without asking anyone (rounds permitting); 0.5 unless given. */
  targetLoss?: number;
}

export interface Feedback {
  approve: boolean;
  note?: string;
}

export type TrainingEvent = { type: "feedback"; payload: Feedback };

export type TrainingOutcome = "approved" | "exhausted" | "timedOut";

export interface TrainingContext {
  dataset: string;
  maxRounds: number;
  targetLoss: number;
  /** The round being worked on, from 1. */
  round: number;
  labelSet: string | null;
  labeled: number;
  /** The shard fed to the model this round. */
  shard: string | null;
  checkpoint: string | null;
  loss: number | null;
  /** The loss of every evaluated round, in order. */
  losses: number[];
  reviews: { round: number; approve: boolean; note: string | null }[];
  outcome: TrainingOutcome | null;
}

export interface TrainingOutput {
  dataset: string;
  outcome: TrainingOutcome | null;
  rounds: number;
  checkpoint: string | null;
  loss: number | null;
  losses: number[];
  reviews: TrainingContext["reviews"];
}

/** The loss every round reaches: 0.8 in round 1, halved each round after (exact in binary, so printable as is). */
export function lossOfRound(round: number): number {
  return 0.8 / 2 ** (round - 1);
}

/** A dataset name's stable "size": how many examples the simulated labeler finds. */
function examplesIn(dataset: string): number {
  let size = 0;
  for (const char of dataset) size += char.charCodeAt(0);
  return 100 + (size % 900);
}

const FEEDBACK_WINDOW_MS = 24 * 60 * 60 * 1000;

const trainingMachine = setup({
  types: {
    context: {} as TrainingContext,
    input: {} as TrainingParams,
    events: {} as TrainingEvent,
    output: {} as TrainingOutput,
  },
  actors: {
    labelDataset: step(async ({ input, stepId }: StepArgs<{ dataset: string }>) => {
      // The labeling service would be given stepId as its job id, so a re-run reuses the same job.
      return { labelSet: `labels/${input.dataset}/${stepId}`, labeled: examplesIn(input.dataset) };
    }),
    feedModel: step(async ({ input }: StepArgs<{ labelSet: string; round: number; labeled: number }>) => {
      // Every round feeds a fresh shuffle of the labeled examples: the shard name is a function of the round.
      return { shard: `${input.labelSet}/shard-${input.round}`, samples: input.labeled };
    }),
    runTraining: step(async ({ input, attempt }: StepArgs<{ shard: string; round: number; samples: number }>) => {
      if (input.round === 1 && attempt === 1) throw new Error("training node preempted (simulated); the run will resume on another node");
      return { checkpoint: `ckpt-r${input.round}`, steps: input.samples * 10 };
    }),
    evaluateLoss: step(async ({ input }: StepArgs<{ checkpoint: string; round: number }>) => {
      return { checkpoint: input.checkpoint, loss: lossOfRound(input.round) };
    }),
  },
  delays: { feedbackWindow: FEEDBACK_WINDOW_MS },
  guards: {
    belowTargetWithRoundsLeft: ({ context }) => context.loss !== null && context.loss > context.targetLoss && context.round < context.maxRounds,
    approved: ({ event }) => event.type === "feedback" && event.payload.approve === true,
    roundsLeft: ({ context }) => context.round < context.maxRounds,
  },
  actions: {
    recordReview: assign({
      reviews: ({ context, event }) =>
        event.type === "feedback" ? [...context.reviews, { round: context.round, approve: event.payload.approve, note: event.payload.note ?? null }] : context.reviews,
    }),
    nextRound: assign({ round: ({ context }) => context.round + 1 }),
  },
}).createMachine({
  id: "training-loop",
  context: ({ input }) => ({
    dataset: required(input?.dataset, 'training-loop needs params like {"dataset": "reviews"}'),
    maxRounds: input.maxRounds ?? 3,
    targetLoss: input.targetLoss ?? 0.5,
    round: 1,
    labelSet: null,
    labeled: 0,
    shard: null,
    checkpoint: null,
    loss: null,
    losses: [],
    reviews: [],
    outcome: null,
  }),
  initial: "labeling",
  states: {
    labeling: {
      invoke: {
        id: "label",
        src: "labelDataset",
        input: ({ context }) => ({ dataset: context.dataset }),
        onDone: { target: "feeding", actions: assign({ labelSet: ({ event }) => event.output.labelSet, labeled: ({ event }) => event.output.labeled }) },
      },
    },
    feeding: {
      invoke: {
        id: "feed",
        src: "feedModel",
        input: ({ context }) => ({ labelSet: context.labelSet ?? "", round: context.round, labeled: context.labeled }),
        onDone: { target: "training", actions: assign({ shard: ({ event }) => event.output.shard }) },
      },
    },
    training: {
      invoke: {
        id: "train",
        src: "runTraining",
        input: ({ context }) => ({ shard: context.shard ?? "", round: context.round, samples: context.labeled }),
        onDone: { target: "evaluating", actions: assign({ checkpoint: ({ event }) => event.output.checkpoint }) },
      },
    },
    evaluating: {
      invoke: {
        id: "evaluate",
        src: "evaluateLoss",
        input: ({ context }) => ({ checkpoint: context.checkpoint ?? "", round: context.round }),
        onDone: {
          target: "deciding",
          actions: assign({ loss: ({ event }) => event.output.loss, losses: ({ context, event }) => [...context.losses, event.output.loss] }),
        },
      },
    },
    deciding: {
      always: [{ guard: "belowTargetWithRoundsLeft", target: "feeding", actions: "nextRound" }, { target: "awaitingFeedback" }],
    },
    awaitingFeedback: {
      on: {
        feedback: [
          { guard: "approved", target: "approved", actions: "recordReview" },
          { guard: "roundsLeft", target: "feeding", actions: ["recordReview", "nextRound"] },
          { target: "exhausted", actions: "recordReview" },
        ],
      },
      after: { feedbackWindow: "timedOut" },
    },
    approved: { type: "final", entry: assign({ outcome: "approved" }) },
    exhausted: { type: "final", entry: assign({ outcome: "exhausted" }) },
    timedOut: { type: "final", entry: assign({ outcome: "timedOut" }) },
  },
  output: ({ context }) => ({
    dataset: context.dataset,
    outcome: context.outcome,
    rounds: context.round,
    checkpoint: context.checkpoint,
    loss: context.loss,
    losses: context.losses,
    reviews: context.reviews,
  }),
});

export const trainingLoop = defineWorkflow({
  name: "training-loop",
  machine: trainingMachine,
  steps: {
    labelDataset: { retries: { limit: 2, delay: "10 seconds", backoff: "constant" }, timeout: "1 hour" },
    feedModel: { retries: { limit: 2, delay: "10 seconds", backoff: "constant" }, timeout: "30 minutes" },
    runTraining: { retries: { limit: 3, delay: "1 minute", backoff: "exponential" }, timeout: "6 hours" },
    evaluateLoss: { retries: { limit: 2, delay: "10 seconds", backoff: "constant" }, timeout: "30 minutes" },
  },
});
