"""The examples in examples/python, each through the worker against the scripted engine (tests/fake_engine.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from durable_machines import WorkflowEntrypoint
from durable_machines.http_journal import connect
from durable_machines.wire import to_wire
from durable_machines.worker import claim, run_pass
from fake_engine import TOKEN, WORKFLOW, FakeEngine

GUARD_SECONDS = 20
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "python"))
from app import workflows  # noqa: E402


async def run_example(engine: FakeEngine, workflow_class: type[WorkflowEntrypoint], payload: Any) -> None:
    """Runs passes of one instance until its run() reports an end."""
    engine.queue("e1", {"json": payload})
    async with connect("http://engine.test", TOKEN, transport=engine.transport()) as client:
        task = await claim(client, WORKFLOW, "test-worker", wait_ms=0)
        assert task is not None
        await asyncio.wait_for(run_pass(client, task, workflow_class, release_grace=0), GUARD_SECONDS)


def keys(engine: FakeEngine) -> list[str]:
    """The keys the engine answered, in the order it first gave them."""
    seen: list[str] = []
    for _, body in engine.requests:
        for call in body.get("calls", []):
            key = call.get("key")
            if key is not None and key not in seen:
                seen.append(key)
    return seen


def test_app_names_each_example_as_the_engine_registers_it() -> None:
    assert sorted(workflows) == ["python-data-pipeline", "python-grocery-agent", "python-training-loop"]


async def test_the_training_loop_labels_once_retries_the_preempted_trainer_and_stops_when_approved() -> None:
    engine = FakeEngine(limits={"train": 3}, events={"feedback": to_wire({"type": "feedback", "payload": {"approve": True, "note": "ship it"}, "timestamp": 0})})
    await run_example(engine, workflows["python-training-loop"], {"dataset": "reviews"})

    assert engine.outcome is not None and engine.outcome[0] == "completed"
    output = engine.outcome[1]["json"]
    assert output["outcome"] == "approved" and output["rounds"] == 1 and output["notes"] == ["ship it"]
    assert [(call["key"], call["attempt"], call["ok"]) for call in engine.calls("result")] == [
        ("do:label-1", 1, True), ("do:train-1", 1, False), ("do:train-1", 2, True), ("do:evaluate-1", 1, True)
    ]
    assert 0 < output["losses"][0] < 0.5


async def test_the_training_loop_trains_again_after_a_rejection_from_the_last_weights() -> None:
    engine = FakeEngine(limits={"train": 3}, events={"feedback": to_wire({"type": "feedback", "payload": {"approve": False}, "timestamp": 0})})
    await run_example(engine, workflows["python-training-loop"], {"dataset": "reviews", "maxRounds": 3})

    output = engine.outcome[1]["json"] if engine.outcome else None
    assert output is not None and output["outcome"] == "exhausted" and output["rounds"] == 3
    # Each round starts from the last one's weights: the held-out loss falls round after round.
    assert output["losses"] == sorted(output["losses"], reverse=True) and output["losses"][-1] < 0.02
    assert [call["name"] for call in engine.calls("step")].count("label") == 1


async def test_the_pipeline_cleans_every_partition_at_once_then_joins_and_publishes() -> None:
    engine = FakeEngine()
    await run_example(engine, workflows["python-data-pipeline"], {"source": "orders", "partitions": 3})

    assert engine.outcome is not None and engine.outcome[0] == "completed"
    output = engine.outcome[1]["json"]
    assert output["summary"] == {"partitions": 3, "orders": 150, "duplicatesDropped": 24, "cents": output["summary"]["cents"]}
    assert output["manifest"].startswith("warehouse/orders/manifest-") and output["manifest"].endswith("(150 orders)")
    # The three clean steps were all called before any of them had a result: they ran at once.
    sent = [call.get("name", call.get("key")) for call in engine.calls() if call["type"] in ("step", "result")]
    assert sent.index("clean 2") < sent.index("do:clean 0-1")
    assert keys(engine)[-2:] == ["do:join-1", "do:publish-1"]


@pytest.mark.parametrize(("budget", "outcome"), [(40, "completed"), (10, "failed")])
async def test_the_agent_retries_the_stock_check_and_cancels_the_order_when_payment_is_declined(budget: float, outcome: str) -> None:
    engine = FakeEngine(limits={"check_stock": 3})
    await run_example(engine, workflows["python-grocery-agent"], {"meals": ["pasta", "tacos", "salad"], "budget": budget})

    assert engine.outcome is not None and engine.outcome[0] == outcome
    stock = [(call["attempt"], call["ok"]) for call in engine.calls("result") if call["key"] == "do:check_stock-1"]
    assert stock == [(1, False), (2, True)]
    if outcome == "completed":
        order = engine.outcome[1]["json"]["order"]
        assert order["unavailable"] == ["cucumber"] and {"item": "parsley", "qty": 1, "cents": 99, "standsInFor": ["basil"]} in order["lines"]
        assert engine.rolled_back == []
    else:
        assert "card declined" in engine.outcome[1]["message"]
        assert [key for key, _ in engine.rolled_back] == ["do:place_order-1"]
