import type { TrainingOutput, TrainingParams } from "./training-loop";

/**
 * The training loop's scenario, shared by its tests inside workerd:
 * machines/training-loop.test.ts (memory host, Node), test/examples.test.ts and
 * test/examples-http.test.ts (inside workerd).
 */

export const CATS: TrainingParams = { dataset: "cats-vs-dogs" };

/** Round 2 rejected ("more epochs"), round 3 approved. */
export const APPROVED_IN_ROUND_3: TrainingOutput = {
  dataset: "cats-vs-dogs",
  outcome: "approved",
  rounds: 3,
  checkpoint: "ckpt-r3",
  loss: 0.2,
  losses: [0.8, 0.4, 0.2],
  reviews: [
    { round: 2, approve: false, note: "more epochs" },
    { round: 3, approve: true, note: null },
  ],
};

/** The steps of three rounds, in the order they succeed. */
export const THREE_ROUNDS_OF_STEPS = [
  "label#1",
  "feed#1",
  "train#1",
  "evaluate#1",
  "feed#2",
  "train#2",
  "evaluate#2",
  "feed#3",
  "train#3",
  "evaluate#3",
];

/** The steps up to the first review, each with the attempt that succeeded: round 1's training is preempted once. */
export const TWO_ROUNDS_WITH_ATTEMPTS = ["label#1@1", "feed#1@1", "train#1@2", "evaluate#1@1", "feed#2@1", "train#2@1", "evaluate#2@1"];
