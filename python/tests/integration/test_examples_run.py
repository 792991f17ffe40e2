"""
The three Python examples (examples/python) to completion: the real engine in workerd, one real worker process
(`python -m durable_machines worker …`), everything else through the HTTP API, as a user drives them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durable_machines import ApiError, Client
from durable_machines.client import Instance
from engine_server import Engine
from harness import WorkerProcess, finished, history, until


@pytest.fixture(scope="module")
def worker(suite_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """One worker process for the module, serving the examples only."""
    process = WorkerProcess("examples", suite_engine.url, suite_engine.worker_token, tmp_path_factory.mktemp("examples"), serves="examples")
    yield process
    process.kill()


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def waiting_for_review(instance: Instance, round: int) -> None:
    """Until the instance waits for its `round`th review: the wait's key is in its step history."""

    async def probe() -> bool | None:
        keys = [step["key"] async for step in instance.steps()]
        return True if f"waitForEvent:review-{round}" in keys else None

    await until(f"review {round} of {instance!r}", probe)


def step_results(log: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(r["type"], r["data"]["key"], r["data"]["attempt"]) for r in log if r["type"] in ("step.succeeded", "step.attempt_failed")]


async def test_the_training_loop_trains_until_a_person_approves(api: Client, worker: WorkerProcess) -> None:
    loop = await api.workflow("python-training-loop").create(fresh("train"), {"dataset": "reviews", "maxRounds": 3})
    await waiting_for_review(loop, 1)
    await loop.send_event("feedback", {"approve": False, "note": "loss too high"})
    await waiting_for_review(loop, 2)
    await loop.send_event("feedback", {"approve": True, "note": "ship it"})

    status = await finished(loop)
    assert status["status"] == "complete", (status, worker.output())
    output = status["output"]
    assert output["outcome"] == "approved" and output["rounds"] == 2 and output["notes"] == ["loss too high", "ship it"]
    assert output["losses"][1] < output["losses"][0]
    assert step_results(await history(loop)) == [
        ("step.succeeded", "do:label-1", 1),
        ("step.attempt_failed", "do:train-1", 1),  # the preempted trainer, retried by its config
        ("step.succeeded", "do:train-1", 2),
        ("step.succeeded", "do:evaluate-1", 1),
        ("step.succeeded", "do:train-2", 1),
        ("step.succeeded", "do:evaluate-2", 1),
    ]


async def test_the_data_pipeline_cleans_its_partitions_at_once(api: Client, worker: WorkerProcess) -> None:
    pipeline = await api.workflow("python-data-pipeline").create(fresh("pipeline"), {"source": "orders", "partitions": 3})

    status = await finished(pipeline)
    assert status["status"] == "complete", (status, worker.output())
    assert status["output"]["summary"] == {"partitions": 3, "orders": 150, "duplicatesDropped": 24, "cents": status["output"]["summary"]["cents"]}
    steps = [(r["type"], r["data"]["key"]) for r in await history(pipeline) if r["type"] in ("step.started", "step.succeeded")]
    # Every partition's step started before any of them finished: they ran at once.
    assert steps[2:5] == [("step.started", f"do:clean {p}-1") for p in range(3)]
    assert sorted(steps[5:8]) == [("step.succeeded", f"do:clean {p}-1") for p in range(3)]
    assert [key for kind, key in steps[8:]] == ["do:join-1", "do:join-1", "do:publish-1", "do:publish-1"]


async def test_the_agent_retries_the_stock_check_and_rolls_the_order_back_when_payment_is_declined(api: Client, worker: WorkerProcess) -> None:
    agent = api.workflow("python-grocery-agent")
    week = {"meals": ["pasta", "tacos", "salad"]}
    paid, declined = await agent.create(fresh("agent"), {**week, "budget": 40}), await agent.create(fresh("agent"), {**week, "budget": 10})

    status = await finished(paid)
    assert status["status"] == "complete", (status, worker.output())
    assert status["output"]["receipt"] == f"paid 2612 cents for order-{paid.id}" and status["output"]["order"]["unavailable"] == ["cucumber"]
    assert ("step.attempt_failed", "do:check_stock-1", 1) in step_results(await history(paid))

    status = await finished(declined)
    assert status["status"] == "errored" and "card declined" in status["error"]["message"]
    types = [(r["type"], (r.get("data") or {}).get("key")) for r in await history(declined)]
    assert [kind for kind, _ in types if kind.startswith("rollback.")] == ["rollback.started", "rollback.step.started", "rollback.step.succeeded", "rollback.completed"], types
    assert [key for kind, key in types if kind == "rollback.step.succeeded"] == ["do:place_order-1"]


async def test_a_python_instance_is_listed_paused_resumed_terminated_restarted_and_deleted_like_any_other(api: Client, worker: WorkerProcess) -> None:
    workflow = api.workflow("python-training-loop")
    loop = await workflow.create(fresh("life"), {"dataset": "lifecycle", "maxRounds": 2})
    await waiting_for_review(loop, 1)
    assert loop.id in [summary["id"] async for summary in workflow.instances()]

    assert (await loop.pause())["status"] in ("paused", "waitingForPause")
    await until("paused", lambda: _status_is(loop, "paused"))
    # Paused, its feedback waits in the instance; resumed, the replay takes it and the run goes on to its end.
    await loop.send_event("feedback", {"approve": True, "note": "after the pause"})
    await loop.resume()
    first = await finished(loop)
    assert first["status"] == "complete" and first["output"]["notes"] == ["after the pause"], (first, worker.output())

    # A restart runs it again from the start: the label step runs again, in the new run.
    await loop.restart()
    await waiting_for_review(loop, 1)
    await loop.terminate()
    assert (await finished(loop))["status"] == "terminated"
    labels = [r for r in await history(loop) if r["type"] == "step.succeeded" and r["data"]["key"] == "do:label-1"]
    assert len(labels) == 2

    await loop.delete()
    with pytest.raises(ApiError) as gone:
        await loop.status()
    assert gone.value.code == "instance.not_found"


async def _status_is(instance: Instance, status: str) -> bool | None:
    return True if (await instance.status())["status"] == status else None
