"""
A training loop: label a dataset once, then round after round train a model on it, evaluate it, and ask a person
whether it is good enough. Each round waits up to a day for a `feedback` event: `{"approve": true}` stops, a
rejection trains another round (until `maxRounds`), and silence stops the loop too.

The model is a line fitted by gradient descent in plain Python, so the example runs anywhere; numpy or torch in the
same step bodies change nothing else. The trainer is preempted on its first attempt (simulated), so the history
shows a retry.
"""

from __future__ import annotations

import random
from typing import Any

from durable_machines import WorkflowEntrypoint, WorkflowTimeoutError

HELD_OUT = 40
EPOCHS_PER_ROUND = 20


def labeled_examples(dataset: str) -> list[list[float]]:
    """200 (x, y) pairs near y = 3x + 0.5; seeded by the dataset's name, so a replay labels the same examples."""
    rng = random.Random(dataset)
    xs = [rng.uniform(-1, 1) for _ in range(200)]
    return [[x, 3 * x + 0.5 + rng.gauss(0, 0.1)] for x in xs]


def fit(examples: list[list[float]], weights: list[float], epochs: int, rate: float = 0.1) -> list[float]:
    """Full-batch gradient descent on the squared error, from `weights`."""
    w, b = weights
    for _ in range(epochs):
        grad_w = sum((w * x + b - y) * x for x, y in examples) * 2 / len(examples)
        grad_b = sum(w * x + b - y for x, y in examples) * 2 / len(examples)
        w, b = w - rate * grad_w, b - rate * grad_b
    return [w, b]


def mean_squared_error(examples: list[list[float]], weights: list[float]) -> float:
    w, b = weights
    return sum((w * x + b - y) ** 2 for x, y in examples) / len(examples)


class TrainingLoop(WorkflowEntrypoint):
    async def run(self, event, step):
        dataset: str = event["payload"]["dataset"]
        max_rounds: int = event["payload"].get("maxRounds", 3)
        weights = [0.0, 0.0]
        losses: list[float] = []
        notes: list[str] = []

        @step.do()
        def label() -> list[list[float]]:
            return labeled_examples(dataset)

        # `label` and `train` are parameters, so these steps get those steps' values: label runs once and every
        # round reuses it; train and evaluate are plain functions, run in a thread so they never block the loop.
        @step.do(config={"retries": {"limit": 3, "delay": "1 second", "backoff": "constant"}, "timeout": "1 hour"})
        def train(label: list[list[float]], ctx: Any) -> list[float]:
            if ctx["step"]["count"] == 1 and ctx["attempt"] == 1:
                raise RuntimeError("training node preempted (simulated); the retry resumes on another node")
            return fit(label[HELD_OUT:], weights, EPOCHS_PER_ROUND)

        @step.do()
        def evaluate(label: list[list[float]], train: list[float]) -> float:
            return round(mean_squared_error(label[:HELD_OUT], train), 6)

        def summary(outcome: str) -> dict[str, Any]:
            return {"dataset": dataset, "outcome": outcome, "rounds": len(losses), "weights": weights, "losses": losses, "notes": notes}

        for _ in range(max_rounds):
            # Called directly, a step runs again (train-2, evaluate-2, …): a new round from the last weights.
            weights = await train()
            losses.append(await evaluate())
            try:
                feedback = await step.wait_for_event("review", "feedback", timeout="1 day")
            except WorkflowTimeoutError:
                return summary("timedOut")
            notes.append(feedback["payload"].get("note", ""))
            if feedback["payload"].get("approve"):
                return summary("approved")
        return summary("exhausted")
