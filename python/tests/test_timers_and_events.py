"""step.sleep, step.sleep_until and step.wait_for_event: what the journal is asked, and what run() gets back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from durable_machines import InvalidDurationError, WorkflowFatalError, WorkflowStep, WorkflowTimeoutError
from journal_double import ScriptedJournal, at


async def test_sleep_sends_milliseconds() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    await step.sleep("nap", "10 seconds")
    await step.sleep("nap", 250)
    await step.sleep("long", "1.5 hours")
    assert journal.trace == [("sleep", "sleep:nap-1", 10_000), ("sleep", "sleep:nap-2", 250), ("sleep", "sleep:long-1", 5_400_000)]


@pytest.mark.parametrize("duration", ["10 parsecs", "ten seconds", -1, float("nan"), True, None, "9" * 100 + " seconds"])
async def test_a_sleep_of_no_duration_is_refused_and_asks_nothing(duration: object) -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    with pytest.raises(InvalidDurationError, match="is not a duration"):
        await step.sleep("nap", duration)  # type: ignore[arg-type]
    assert journal.trace == []


async def test_sleep_until_takes_epoch_seconds_and_sends_milliseconds() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    await step.sleep_until("wake", 1_700_000_000)
    await step.sleep_until("wake", 1_700_000_000.25)
    assert journal.trace == [("sleep.until", "sleep:wake-1", 1_700_000_000_000), ("sleep.until", "sleep:wake-2", 1_700_000_000_250)]


async def test_sleep_until_takes_a_datetime() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    aware = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    naive = datetime(2030, 1, 2, 3, 4, 5)
    await step.sleep_until("aware", aware)
    await step.sleep_until("naive", naive)
    assert journal.trace[0] == ("sleep.until", "sleep:aware-1", aware.timestamp() * 1000)
    # A naive datetime is local time, as datetime.timestamp() reads it.
    assert journal.trace[1] == ("sleep.until", "sleep:naive-1", naive.timestamp() * 1000)


@pytest.mark.parametrize("timestamp", ["2030-01-01", None, True])
async def test_sleep_until_refuses_what_is_not_a_time(timestamp: object) -> None:
    journal = ScriptedJournal()
    with pytest.raises(TypeError, match="sleep_until needs a datetime or epoch seconds"):
        await WorkflowStep(journal).sleep_until("wake", timestamp)  # type: ignore[arg-type]
    assert journal.trace == []


async def test_a_refused_sleep_raises_the_engines_error() -> None:
    refusal = {"name": "WorkflowFatalError", "message": "You can't sleep until a time in the past, time-traveler"}
    journal = ScriptedJournal(refusals={"past": refusal})  # type: ignore[dict-item]
    with pytest.raises(WorkflowFatalError) as raised:
        await WorkflowStep(journal).sleep_until("past", 0)
    assert raised.value.message == refusal["message"] and raised.value.name == "WorkflowFatalError"


async def test_wait_for_event_returns_type_payload_and_timestamp() -> None:
    sent = at(1_800_000_000)
    journal = ScriptedJournal(events={"approval": [({"approved": True}, sent)]})
    received = await WorkflowStep(journal).wait_for_event("await-approval", "approval", timeout="1 hour")
    assert received == {"type": "approval", "payload": {"approved": True}, "timestamp": sent}
    assert journal.trace == [("wait", "waitForEvent:await-approval-1", "approval", 3_600_000)]


async def test_wait_for_event_waits_24_hours_by_default() -> None:
    journal = ScriptedJournal(events={"approval": [(None, at(0))]})
    await WorkflowStep(journal).wait_for_event("await-approval", "approval")
    assert journal.trace == [("wait", "waitForEvent:await-approval-1", "approval", 86_400_000)]


async def test_wait_for_event_raises_on_timeout() -> None:
    journal = ScriptedJournal()
    with pytest.raises(WorkflowTimeoutError) as raised:
        await WorkflowStep(journal).wait_for_event("await-approval", "approval", timeout=1500)
    assert raised.value.name == "WorkflowTimeoutError"
    assert raised.value.message == "Execution timed out after 1500ms"


async def test_wait_for_event_takes_its_name_and_type_positionally_only() -> None:
    step = WorkflowStep(ScriptedJournal())
    with pytest.raises(TypeError):
        await step.wait_for_event(name="a", event_type="b")  # type: ignore[call-arg]


async def test_an_event_type_that_is_no_string_is_refused() -> None:
    journal = ScriptedJournal()
    with pytest.raises(TypeError, match="An event type must be a string"):
        await WorkflowStep(journal).wait_for_event("w", 42)  # type: ignore[arg-type]
    assert journal.trace == []


async def test_two_spellings_of_one_instant_sleep_until_the_same_millisecond() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    utc = datetime(2030, 6, 1, 12, tzinfo=timezone.utc)
    await step.sleep_until("utc", utc)
    await step.sleep_until("paris", utc.astimezone(timezone(timedelta(hours=2))))
    await step.sleep_until("epoch", 1_906_545_600)
    assert [entry[2] for entry in journal.trace] == [1_906_545_600_000] * 3
