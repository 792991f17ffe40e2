"""serve(): claims, capacity, refusal and shutdown (the command line's are in test_cli.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from durable_machines import WorkflowEntrypoint
from durable_machines.worker import WorkerError, serve
from fake_engine import TOKEN, WORKFLOW, FakeEngine

GUARD_SECONDS = 20


class Gated(WorkflowEntrypoint):
    """One step whose body waits for the test's gate: a pass that holds its slot for as long as the test wants."""

    gate: asyncio.Event
    bodies: list[str] = []

    async def run(self, event: Any, step: Any) -> Any:
        @step.do()
        async def work() -> Any:
            Gated.bodies.append(event["instanceId"])
            await Gated.gate.wait()
            return event["instanceId"]

        return await work()


async def until(condition: Any) -> None:
    """Lets the loop run until `condition()` holds (bounded by the guard, never a fixed sleep)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), GUARD_SECONDS)


async def test_serve_runs_passes_up_to_its_capacity_and_stops_cleanly_when_cancelled() -> None:
    Gated.gate, Gated.bodies = asyncio.Event(), []
    engine = FakeEngine()
    engine.queue("a1")
    engine.queue("a2")
    serving = asyncio.create_task(serve("http://engine.test", TOKEN, {WORKFLOW: Gated}, worker_id="w-1", concurrency=1, release_grace=0, transport=engine.transport()))

    await until(lambda: Gated.bodies == ["a1"])
    for _ in range(50):
        await asyncio.sleep(0)
    # The one slot is taken: a1's pass runs, and the worker has not claimed a2.
    assert engine.endpoints().count("claim") == 1 and engine.requests[0][1]["worker"] == "w-1"
    Gated.gate.set()
    await until(lambda: engine.completed == ["a1", "a2"])

    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(serving, GUARD_SECONDS)
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []


async def test_cancelling_serve_mid_step_cancels_the_pass_without_sending_its_result() -> None:
    Gated.gate, Gated.bodies = asyncio.Event(), []
    engine = FakeEngine()
    engine.queue("a1")
    serving = asyncio.create_task(serve("http://engine.test", TOKEN, {WORKFLOW: Gated}, release_grace=0, transport=engine.transport()))
    await until(lambda: Gated.bodies == ["a1"])

    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(serving, GUARD_SECONDS)
    assert engine.calls("result") == [] and engine.completed == []
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []


async def test_serve_raises_when_the_engine_refuses_its_token() -> None:
    engine = FakeEngine()
    with pytest.raises(WorkerError, match="401"):
        await asyncio.wait_for(serve("http://engine.test", "wrong", {WORKFLOW: Gated}, transport=engine.transport()), GUARD_SECONDS)


async def test_serve_raises_for_a_workflow_the_engine_does_not_serve_from_python() -> None:
    async def not_python(request: Any) -> Any:
        return httpx.Response(409, json={"error": {"code": "workflow.not_python", "message": "pipeline is not served by Python"}})

    with pytest.raises(WorkerError, match="409"):
        await asyncio.wait_for(serve("http://engine.test", TOKEN, {WORKFLOW: Gated}, transport=httpx.MockTransport(not_python)), GUARD_SECONDS)
