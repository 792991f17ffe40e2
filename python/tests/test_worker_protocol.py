"""The worker against a scripted engine (tests/fake_engine.py): one pass of run() over the protocol, call by call."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any

from durable_machines import WorkflowEntrypoint, WorkflowFatalError
from durable_machines.http_journal import connect
from durable_machines.wire import from_wire, to_wire
from durable_machines.worker import claim, run_pass
from fake_engine import TOKEN, WORKFLOW, FakeEngine, wire

# Bounds a test that would otherwise hang on a bug; no test waits for it to pass.
GUARD_SECONDS = 20


async def one_pass(engine: FakeEngine, workflow_class: type[WorkflowEntrypoint], instance_id: str = "a1") -> str:
    """Queues the instance, claims it as a worker does, and runs the pass to its end: why it ended."""
    engine.queue(instance_id)
    async with connect("http://engine.test", TOKEN, transport=engine.transport()) as client:
        task = await claim(client, WORKFLOW, "test-worker", wait_ms=0)
        assert task is not None and task.instance_id == instance_id and task.lease == engine.lease
        return await asyncio.wait_for(run_pass(client, task, workflow_class, release_grace=0), GUARD_SECONDS)


async def test_replays_from_the_log_runs_the_step_it_is_told_to_and_reports_the_output() -> None:
    bodies: list[str] = []

    class Pipeline(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do()
            async def fetch() -> Any:
                bodies.append("fetch")
                return {"rows": 99}

            @step.do()
            def summarise(fetch: Any) -> Any:  # a plain function: runs in a thread
                bodies.append("summarise")
                return fetch["rows"] + 1

            return {"total": await summarise(), "instance": event["instanceId"]}

    engine = FakeEngine(results={"do:fetch-1": {"value": wire({"rows": 3})}})
    reason = await one_pass(engine, Pipeline)

    assert bodies == ["summarise"]  # fetch's result came from the log: its body never ran
    assert [call["type"] for call in engine.calls()] == ["step", "step", "result", "completed"]
    result = engine.calls("result")[0]
    assert result == {"type": "result", "key": "do:summarise-1", "attempt": 1, "ok": True, "value": {"json": 4}}
    assert engine.outcome == ("completed", {"json": {"total": 4, "instance": "a1"}})
    assert reason == "the engine ended the pass"
    # Every request carried the pass's lease; nothing was sent after the end.
    assert all(body["lease"] == "lease-1" for endpoint, body in engine.requests if endpoint != "claim")
    assert engine.endpoints()[-1] in ("calls", "heartbeat")


async def test_a_pass_waiting_only_on_pending_calls_is_released_and_run_stopped() -> None:
    reached: list[str] = []

    class Cooling(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            await step.sleep("cool down", "1 hour")
            reached.append("after the sleep")
            return None

    engine = FakeEngine()
    reason = await one_pass(engine, Cooling)

    assert reason == "released"
    assert engine.calls() == [{"type": "sleep", "name": "cool down", "ms": 3_600_000}]
    assert engine.endpoints()[-1] == "release" and engine.requests[-1][1]["lease"] == "lease-1"
    assert reached == []  # run() was cancelled in its wait, not answered


async def test_a_pass_is_not_released_while_a_body_runs_beside_a_pending_call() -> None:
    gate = asyncio.Event()
    seen_when_body_ran: list[list[str]] = []
    engine = FakeEngine()

    class Both(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do()
            async def slow() -> Any:
                seen_when_body_ran.append(engine.endpoints())
                await gate.wait()
                return "done"

            await asyncio.gather(step.sleep("later", 1000), slow())

    async def open_gate_once_pending() -> None:
        # The sleep is pending and the body waits: the worker must not release now.
        while not seen_when_body_ran:
            await asyncio.sleep(0)
        for _ in range(50):
            await asyncio.sleep(0)
        assert "release" not in engine.endpoints()
        gate.set()

    opener = asyncio.create_task(open_gate_once_pending())
    reason = await one_pass(engine, Both)
    await opener

    assert reason == "released"
    # The body's result went out before the release.
    assert engine.endpoints().index("release") > max(i for i, (endpoint, body) in enumerate(engine.requests) if endpoint == "calls" and body["calls"][0]["type"] == "result")
    assert engine.results["do:slow-1"] == {"value": {"json": "done"}}


async def test_a_lost_lease_stops_the_pass_and_sends_nothing_more() -> None:
    reached: list[str] = []

    class Pipeline(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do()
            async def fetch() -> Any:
                return 1

            await fetch()
            reached.append("after fetch")
            return "never"

    engine = FakeEngine(lose_lease=lambda endpoint, body: endpoint == "calls" and body["calls"][0]["type"] == "result")
    reason = await one_pass(engine, Pipeline)

    assert reason.startswith("lease.lost")
    assert reached == [] and engine.outcome is None
    fenced_at = max(i for i, (endpoint, body) in enumerate(engine.requests) if endpoint == "calls" and body["calls"][0]["type"] == "result")
    assert all(endpoint == "heartbeat" for endpoint, _ in engine.requests[fenced_at + 1 :])  # at most a heartbeat already out


async def test_a_lease_lost_on_a_heartbeat_cancels_the_running_body() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    class Training(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do()
            async def train() -> Any:
                started.set()
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    cancelled.set()
                    raise

            return await train()

    engine = FakeEngine()
    engine.lose_lease = lambda endpoint, body: endpoint == "heartbeat" and started.is_set()
    pass_running = asyncio.create_task(one_pass(engine, Training))
    await started.wait()
    engine.give({"type": "nothing"})  # wakes the heartbeat's long poll, which now finds its lease fenced
    reason = await pass_running

    assert reason.startswith("lease.lost") and cancelled.is_set()
    assert engine.calls("result") == []


async def test_a_retry_comes_as_run_work_and_its_result_answers_the_waiting_call() -> None:
    attempts: list[int] = []

    class Flaky(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do(config={"retries": {"limit": 2, "delay": "1 second"}})
            async def call_api(ctx: Any) -> Any:
                attempts.append(ctx["attempt"])
                if ctx["attempt"] == 1:
                    raise ConnectionError("flaky")
                return "ok"

            return await call_api()

    engine = FakeEngine(limits={"call_api": 2})
    reason = await one_pass(engine, Flaky)

    assert attempts == [1, 2]
    results = engine.calls("result")
    assert [(r["attempt"], r["ok"]) for r in results] == [(1, False), (2, True)]
    assert results[0]["error"] == {"name": "ConnectionError", "message": "flaky"}
    assert engine.calls("step")[0]["config"] == {"retries": {"limit": 2, "delay": "1 second"}}
    assert engine.outcome == ("completed", {"json": "ok"}) and reason == "the engine ended the pass"


async def test_a_delay_function_stays_in_python_and_its_answer_rides_the_failed_result() -> None:
    class Backoff(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do(config={"retries": {"limit": 1, "delay": lambda info: 250 * info["ctx"]["attempt"], "backoff": "constant"}})
            async def call_api(ctx: Any) -> Any:
                if ctx["attempt"] == 1:
                    raise ValueError("retry me")
                return ctx["attempt"]

            return await call_api()

    engine = FakeEngine(limits={"call_api": 1})
    await one_pass(engine, Backoff)

    assert engine.calls("step")[0]["config"] == {"retries": {"limit": 1, "backoff": "constant", "delay": {"function": True}}}
    failed = engine.calls("result")[0]
    assert failed["ok"] is False and failed["delay"] == {"ms": 250}
    assert engine.outcome == ("completed", {"json": 2})


async def test_rollback_work_runs_the_handler_with_the_recorded_output_and_reports_it() -> None:
    undone: list[Any] = []
    at = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)

    class Saga(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do(rollback=lambda undo: undone.append((undo["output"], type(undo["error"]).__name__, str(undo["error"]))))
            async def book() -> Any:
                return {"booked": at}

            await book()
            raise RuntimeError("payment declined")

    engine = FakeEngine()
    reason = await one_pass(engine, Saga)

    assert engine.calls("step")[0] == {"type": "step", "name": "book", "rollback": {}}
    assert engine.outcome == ("failed", {"name": "RuntimeError", "message": "payment declined"})
    assert undone == [({"booked": at}, "WorkflowError", "RuntimeError: payment declined")]
    assert engine.calls("rollbackResult") == [{"type": "rollbackResult", "key": "do:book-1", "attempt": 1}]
    assert reason == "the engine ended the pass"


async def test_a_release_that_resumes_a_saga_keeps_the_pass_and_runs_the_rollback_work() -> None:
    undone: list[Any] = []

    class Approval(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do(rollback=lambda undo: undone.append(undo["output"]))
            async def order() -> Any:
                return "o-1"

            await order()
            await step.wait_for_event("approval", "approved")

    # The engine went down mid-saga: the replay is answered from the log and waits; its release resumes the saga.
    engine = FakeEngine(results={"do:order-1": {"value": wire("o-1")}}, saga_under_way={"name": "Error", "message": "terminated"})
    reason = await one_pass(engine, Approval)

    assert engine.endpoints().count("release") == 1
    assert undone == ["o-1"]
    assert engine.calls("rollbackResult") == [{"type": "rollbackResult", "key": "do:order-1", "attempt": 1}]
    assert reason == "the engine ended the pass"


async def test_a_wide_gather_goes_out_in_requests_within_the_engines_bounds() -> None:
    class Wide(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            calls = []
            for i in range(2500):

                @step.do(f"part {i}")
                async def part() -> Any:
                    return "x" * 16384

                calls.append(part())
            return len(await asyncio.gather(*calls))

    engine = FakeEngine()
    await one_pass(engine, Wide)

    sizes = [len(body["calls"]) for endpoint, body in engine.requests if endpoint == "calls"]
    assert engine.outcome == ("completed", {"json": 2500})
    assert max(sizes) == 1000  # 2,500 step calls at once: split, none over the engine's bound
    results = [body for endpoint, body in engine.requests if endpoint == "calls" and body["calls"][0]["type"] == "result"]
    # 2,500 results of 16 KiB: about 40 MiB, more than five requests may carry.
    assert all(len(json.dumps(body["calls"])) <= 7 * 1024 * 1024 for body in results)


async def test_a_refused_call_raises_workflow_fatal_error_in_run() -> None:
    caught: list[BaseException] = []

    class TooLong(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            try:
                await step.sleep("x" * 300, 10)
            except WorkflowFatalError as error:
                caught.append(error)
                raise

    engine = FakeEngine(refuse={"x" * 300: "Step name too long"})
    await one_pass(engine, TooLong)

    assert len(caught) == 1 and caught[0].message == "Step name too long"
    assert engine.outcome is not None and engine.outcome[0] == "failed"
    assert engine.outcome[1]["name"] == "WorkflowFatalError" and engine.outcome[1]["message"].endswith("Step name too long")


async def test_datetimes_cross_both_ways_through_steps_waits_and_the_output() -> None:
    at = datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=timezone.utc)
    received: list[Any] = []

    class Dated(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do()
            async def stamp() -> Any:
                return {"at": at, "all": [at, "not a date"]}

            stamped = await stamp()
            answer = await step.wait_for_event("review", "approval", timeout="1 hour")
            received.append((stamped, answer))
            return {"stamped": stamped["at"], "answered": answer["timestamp"]}

    event = to_wire({"type": "approval", "payload": {"ok": True, "when": at}, "timestamp": at})
    engine = FakeEngine(events={"approval": event})
    await one_pass(engine, Dated)

    sent = engine.calls("result")[0]["value"]
    assert sent == {"json": {"at": "2024-02-29T23:59:59.123Z", "all": ["2024-02-29T23:59:59.123Z", "not a date"]}, "meta": {"values": {"at": ["Date"], "all.0": ["Date"]}, "v": 1}}
    assert received == [({"at": at, "all": [at, "not a date"]}, {"type": "approval", "payload": {"ok": True, "when": at}, "timestamp": at})]
    assert engine.outcome is not None and from_wire(engine.outcome[1]) == {"stamped": at, "answered": at}

    # A later pass replays the step from the log: the same datetimes, and its body does not run again.
    replay = FakeEngine(results={"do:stamp-1": {"value": sent}}, events={"approval": event})
    await one_pass(replay, Dated)
    assert received[1] == received[0] and replay.calls("result") == []


async def test_an_attempt_past_its_timeout_is_cut_off_and_reported_as_the_typescript_runner_does() -> None:
    cancelled = asyncio.Event()

    class Stuck(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do()
            async def hang() -> Any:
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    cancelled.set()
                    raise

            return await hang()

    engine = FakeEngine(timeout_ms=1)
    await one_pass(engine, Stuck)

    assert cancelled.is_set()
    assert engine.calls("result")[0]["error"] == {"name": "WorkflowTimeoutError", "message": "Execution timed out after 1ms"}
    assert engine.outcome is not None and engine.outcome[1]["name"] == "WorkflowTimeoutError"


async def test_the_payload_crosses_as_a_wire_value_with_its_datetimes() -> None:
    at = datetime(2025, 6, 1, tzinfo=timezone.utc)
    seen: list[Any] = []

    class Echo(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            seen.append((event["payload"], event.timestamp, event.workflow_name))

    engine = FakeEngine()
    engine.queued.append({"payload": to_wire({"when": at}), "timestamp": 1765200000000, "instanceId": "p1", "workflowName": WORKFLOW})
    async with connect("http://engine.test", TOKEN, transport=engine.transport()) as client:
        task = await claim(client, WORKFLOW, "test-worker", wait_ms=0)
        assert task is not None
        await asyncio.wait_for(run_pass(client, task, Echo, release_grace=0), GUARD_SECONDS)

    assert seen == [({"when": at}, datetime(2025, 12, 8, 13, 20, tzinfo=timezone.utc), WORKFLOW)]
    assert engine.outcome == ("completed", {"json": None})
