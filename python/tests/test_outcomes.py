"""What crosses to the journal: values (JSON and aware datetimes only), errors, retry delays, rollbacks, run()'s end."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from typing import Any

import pytest

import durable_machines.step as step_module
from durable_machines import (
    Failed,
    NonRetryableError,
    NotSerializableError,
    Succeeded,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    run_workflow,
)
from durable_machines.values import to_json_value
from journal_double import InstanceEnded, ScriptedJournal, at

BOUND = 5.0
NO_RETRIES = {"retries": {"limit": 0, "delay": 0}}


async def test_non_retryable_error_fails_the_step_at_once() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do("non-retryable-step", config={"retries": {"limit": 3, "delay": 0, "backoff": "constant"}})
    async def boom() -> None:
        raise NonRetryableError("do not retry")

    with pytest.raises(NonRetryableError, match="^do not retry$"):
        await boom()
    assert [outcome for _, _, outcome in journal.attempts] == [Failed({"name": "NonRetryableError", "message": "do not retry", "nonRetryable": True})]


def test_cloudflares_import_paths_name_the_same_classes() -> None:
    from workers import WorkflowEntrypoint as CloudflareEntrypoint
    from workers.workflows import NonRetryableError as CloudflareNonRetryable

    assert CloudflareEntrypoint is WorkflowEntrypoint and CloudflareNonRetryable is NonRetryableError


async def test_a_step_error_is_recorded_by_name_and_message() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do(config=NO_RETRIES)
    async def failing() -> None:
        raise KeyError("order-7")

    with pytest.raises(Exception) as raised:
        await failing()
    assert journal.attempts[0][2] == Failed({"name": "KeyError", "message": "'order-7'"})
    assert str(raised.value) == "KeyError: 'order-7'"


@pytest.mark.parametrize(
    ("output", "found"),
    [
        ({1, 2}, "the value is a set"),
        ({"rows": [1, b"raw"]}, "the value['rows'][1] is a bytes"),
        ({"at": datetime(2030, 1, 1)}, "the value['at'] is a naive datetime"),
        ({1: "one"}, "has the key 1, a int"),
        ([float("inf")], "the value[0] is inf"),
        ({"id": 2**60}, "beyond ±2**53-1"),
        (lambda: None, "the value is a function"),
    ],
)
async def test_a_step_output_that_cannot_cross_ends_the_instance_with_a_clear_error(output: object, found: str) -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do("make", config={"retries": {"limit": 3, "delay": 0}})
    async def make() -> object:
        return output

    with pytest.raises(InstanceEnded):
        await make()
    [(key, _, outcome)] = journal.attempts
    assert isinstance(outcome, Failed) and outcome.fatal is not None
    assert outcome.error["name"] == "NotSerializableError" and outcome.error["nonRetryable"] is True
    assert found in outcome.error["message"] and 'The output of step "make" must be JSON' in outcome.error["message"]
    assert outcome.fatal.instance == 'The execution of the Workflow instance was terminated, as the step "make" returned a value which is not serialisable'
    assert "do:make-1" not in journal.log


async def test_json_outputs_cross_tuples_as_lists_and_aware_datetimes_as_they_are() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    when = datetime(2030, 1, 1, tzinfo=timezone.utc)

    @step.do()
    async def make() -> object:
        return {"pair": (1, "two"), "when": when, "ok": True, "none": None, "ratio": 0.5}

    assert await make() == {"pair": [1, "two"], "when": when, "ok": True, "none": None, "ratio": 0.5}


def test_values_too_deep_or_too_large_are_refused_before_they_are_copied() -> None:
    deep: list[Any] = []
    for _ in range(600):
        deep = [deep]
    with pytest.raises(NotSerializableError, match="nested more than 512 levels"):
        to_json_value(deep, "The value")
    looped: dict[str, Any] = {}
    looped["self"] = looped
    with pytest.raises(NotSerializableError, match="nested more than 512 levels"):
        to_json_value(looped, "The value")
    with pytest.raises(NotSerializableError, match="more than 1000000 values"):
        to_json_value([0] * 1_000_001, "The value")


def test_a_config_that_cannot_cross_is_refused_when_the_step_is_declared() -> None:
    step = WorkflowStep(ScriptedJournal())
    with pytest.raises(NotSerializableError, match='Step config for "s" must be JSON'):
        step.do("s", config={"timeout": {1, 2}})(lambda: None)
    with pytest.raises(TypeError, match='Step config for "s" must be a dict'):
        step.do("s", config="10 seconds")(lambda: None)  # type: ignore[arg-type]


async def test_a_synchronous_step_runs_in_a_thread_and_leaves_the_loop_free() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    loop_thread = threading.get_ident()
    unblocked = threading.Event()
    threads: list[int] = []

    # The blocking body finishes only once a coroutine on the loop has run: it would deadlock on the loop's thread.
    @step.do()
    def blocking() -> str:
        threads.append(threading.get_ident())
        assert unblocked.wait(BOUND)
        return "computed"

    @step.do()
    async def on_the_loop() -> str:
        unblocked.set()
        return "free"

    assert await asyncio.wait_for(asyncio.gather(blocking(), on_the_loop()), BOUND) == ["computed", "free"]
    assert threads and threads[0] != loop_thread


async def test_a_synchronous_function_that_returns_a_coroutine_is_awaited() -> None:
    step = WorkflowStep(ScriptedJournal())

    async def later() -> int:
        return 7

    assert await step.do("lambda")(lambda: later())() == 7


async def test_a_retry_delay_function_gets_ctx_and_error_and_answers_milliseconds() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    asked: list[tuple[int, str]] = []

    def delay(arguments: dict[str, Any]) -> str:
        asked.append((arguments["ctx"]["attempt"], str(arguments["error"])))
        return f'{arguments["ctx"]["attempt"]} seconds'

    @step.do(config={"retries": {"limit": 2, "delay": delay, "backoff": "constant"}})
    async def flaky(ctx: Any) -> int:
        if ctx["attempt"] < 3:
            raise ValueError(f"attempt {ctx['attempt']}")
        return 3

    assert await flaky() == 3
    assert asked == [(1, "attempt 1"), (2, "attempt 2")]
    assert journal.delays == [("do:flaky-1", 1, 1000), ("do:flaky-1", 2, 2000)]
    # The engine gets the config without the function.
    assert journal.calls[0].config == {"retries": {"limit": 2, "backoff": "constant"}}


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        (lambda arguments: "soon", 'The delay function for step "d-1" returned an invalid delay value (expected a number of ms or a duration string like "30 seconds"), got \'soon\''),
        (lambda arguments: 1 / 0, 'The delay function for step "d-1" threw an error: division by zero'),
    ],
)
async def test_a_delay_function_that_fails_fails_the_step_for_good(delay: Any, message: str) -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do("d", config={"retries": {"limit": 5, "delay": delay}})
    async def d() -> None:
        raise ValueError("first")

    with pytest.raises(Exception) as raised:
        await d()
    assert journal.delays == [("do:d-1", 1, Failed({"name": "NonRetryableDelayError", "message": message, "nonRetryable": True}))]
    assert str(raised.value) == f"NonRetryableDelayError: {message}"


async def test_a_delay_function_that_does_not_answer_in_time_fails_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(step_module, "DELAY_FUNCTION_SECONDS", 0.01)
    never = asyncio.Event()
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    async def stuck(arguments: dict[str, Any]) -> int:
        await never.wait()
        return 0

    @step.do("d", config={"retries": {"limit": 5, "delay": stuck}})
    async def d() -> None:
        raise ValueError("first")

    with pytest.raises(Exception, match="did not return within 0.01 seconds"):
        await d()


async def test_a_rollback_is_registered_with_its_config_and_undoes_with_ctx_error_and_output() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    undone: list[dict[str, Any]] = []

    def refund(arguments: dict[str, Any]) -> None:
        undone.append(arguments)

    @step.do("charge", rollback=refund, rollback_config={"retries": {"limit": 1, "delay": 0}})
    async def charge() -> dict[str, str]:
        return {"receipt": "r-1"}

    @step.do("plain")
    async def plain() -> None:
        return None

    await charge()
    await plain()
    handler = journal.calls[0].rollback
    assert handler is not None and handler.config == {"retries": {"limit": 1, "delay": 0}}
    assert journal.calls[1].rollback is None
    ctx = journal.attempts[0][1]
    assert await handler.run({"ctx": ctx, "error": {"name": "ValueError", "message": "later"}, "output": {"receipt": "r-1"}}) is None
    [arguments] = undone
    assert arguments["ctx"] == ctx and arguments["output"] == {"receipt": "r-1"}
    assert isinstance(arguments["error"], ValueError) and str(arguments["error"]) == "later"


async def test_a_failing_rollback_reports_its_error() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    async def refund(arguments: dict[str, Any]) -> None:
        raise RuntimeError("bank down")

    await step.do("charge", rollback=refund)(lambda: 1)()
    handler = journal.calls[0].rollback
    assert handler is not None
    answer = await handler.run({"ctx": journal.attempts[0][1], "error": {"name": "Error", "message": "x"}, "output": 1})
    assert answer == Failed({"name": "RuntimeError", "message": "bank down"})


async def test_a_rollback_config_with_a_delay_function_is_flagged_for_the_engine() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    async def refund(arguments: dict[str, Any]) -> None:
        return None

    await step.do("charge", rollback=refund, rollback_config={"retries": {"limit": 2, "delay": lambda arguments: 5}})(lambda: 1)()
    handler = journal.calls[0].rollback
    assert handler is not None and handler.delay_function is True and handler.config == {"retries": {"limit": 2}}


def test_a_rollback_that_is_no_function_is_refused() -> None:
    with pytest.raises(TypeError, match='Rollback for "charge" must be a function'):
        WorkflowStep(ScriptedJournal()).do("charge", rollback="refund")  # type: ignore[arg-type]


class Echo(WorkflowEntrypoint):
    async def run(self, event: WorkflowEvent, step: WorkflowStep) -> Any:
        @step.do("echo")
        async def echo() -> Any:
            return {"echo": event["payload"], "id": event.instance_id, "env": self.env["REGION"]}

        return await echo()


def event(payload: Any) -> WorkflowEvent:
    return WorkflowEvent(payload=payload, timestamp=at(1_700_000_000), instance_id="inst-1", workflow_name="echo")


async def test_run_reports_its_output() -> None:
    journal = ScriptedJournal()
    await run_workflow(Echo(None, {"REGION": "eu"}), event({"n": 1}), journal)
    assert journal.ended == ("completed", {"echo": {"n": 1}, "id": "inst-1", "env": "eu"})


def test_the_event_reads_by_key_as_cloudflares_and_by_attribute() -> None:
    received = event({"n": 1})
    assert dict(received) == {"payload": {"n": 1}, "timestamp": at(1_700_000_000), "instanceId": "inst-1", "workflowName": "echo"}
    assert received.get("instanceId") == received.instance_id == "inst-1" and received.timestamp == at(1_700_000_000)


class Failing(WorkflowEntrypoint):
    async def run(self, event: WorkflowEvent, step: WorkflowStep) -> Any:
        raise NonRetryableError("stop here")


class Unserialisable(WorkflowEntrypoint):
    async def run(self, event: WorkflowEvent, step: WorkflowStep) -> Any:
        return {"tags": {"a"}}


async def test_run_reports_the_exception_that_escaped_it() -> None:
    journal = ScriptedJournal()
    await run_workflow(Failing(), event(None), journal)
    assert journal.ended == ("failed", {"name": "NonRetryableError", "message": "stop here", "nonRetryable": True})


async def test_an_output_that_cannot_cross_fails_the_run() -> None:
    journal = ScriptedJournal()
    await run_workflow(Unserialisable(), event(None), journal)
    assert journal.ended is not None and journal.ended[0] == "failed"
    assert journal.ended[1]["name"] == "NotSerializableError"
    assert "The workflow's output must be JSON, but the value['tags'] is a set" in journal.ended[1]["message"]


async def test_a_step_answer_from_the_journal_is_what_run_gets() -> None:
    journal = ScriptedJournal(log={"do:echo-1": Succeeded("from the log")})
    await run_workflow(Echo(None, {"REGION": "eu"}), event(None), journal)
    assert journal.ended == ("completed", "from the log")



def test_a_recorded_error_raised_again_keeps_its_name_and_message() -> None:
    from durable_machines.errors import WorkflowFatalError, WorkflowTimeoutError, error_info

    assert error_info(WorkflowFatalError("WorkflowFatalError", "Cannot execute steps during rollback phase")) == {
        "name": "WorkflowFatalError",
        "message": "Cannot execute steps during rollback phase",
    }
    assert error_info(WorkflowTimeoutError("WorkflowTimeoutError", "Execution timed out after 5ms"))["message"] == "Execution timed out after 5ms"
