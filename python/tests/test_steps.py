"""step.do as Cloudflare's Python SDK defines it: declaration, dependencies by parameter name, memoisation, ctx."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from durable_machines import Failed, Succeeded, WorkflowStep
from journal_double import ScriptedJournal

# A bound on waiting for a condition, so that a regression fails instead of hanging; never a sleep.
BOUND = 5.0


async def test_declaring_a_step_runs_nothing() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    ran: list[str] = []

    @step.do("first")
    async def first() -> int:
        ran.append("first")
        return 1

    assert ran == [] and journal.trace == []
    assert first.name == "first"
    assert await first() == 1
    assert ran == ["first"] and journal.keys() == ["do:first-1"]


async def test_the_name_defaults_to_the_function_name() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do()
    async def fetch_rows() -> str:
        return "rows"

    await fetch_rows()
    assert journal.keys() == ["do:fetch_rows-1"]


async def test_parameters_name_the_steps_whose_values_they_receive() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do()
    async def base_value() -> int:
        return 10

    @step.do()
    async def derived(base_value: int) -> int:
        return base_value + 5

    assert await derived() == 15
    assert journal.keys() == ["do:base_value-1", "do:derived-1"]


async def test_a_finished_dependency_is_reused_not_run_again() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    runs: list[str] = []

    @step.do()
    async def a() -> int:
        runs.append("a")
        return 1

    @step.do()
    async def b(a: int) -> int:
        runs.append("b")
        return a + 1

    @step.do()
    async def c(a: int, b: int) -> int:
        return a + b

    assert await a() == 1
    assert await c() == 3
    assert runs == ["a", "b"]
    assert journal.keys() == ["do:a-1", "do:b-1", "do:c-1"]


async def test_a_dependency_in_flight_is_awaited_not_started_twice() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    release = asyncio.Event()
    started: list[str] = []

    @step.do()
    async def slow() -> str:
        started.append("slow")
        await release.wait()
        return "done"

    @step.do()
    async def left(slow: str) -> str:
        return f"left {slow}"

    @step.do()
    async def right(slow: str) -> str:
        return f"right {slow}"

    running = asyncio.ensure_future(asyncio.gather(slow(), left(), right()))
    while started != ["slow"]:
        await asyncio.sleep(0)
    release.set()
    assert await asyncio.wait_for(running, BOUND) == ["done", "left done", "right done"]
    assert started == ["slow"]
    assert journal.keys().count("do:slow-1") == 1 and "do:slow-2" not in journal.keys()


async def test_a_dependency_resolving_its_own_dependencies_is_already_in_flight() -> None:
    # Cloudflare's SDK marks a step in flight only once its dependencies are resolved, so a second dependant arriving
    # meanwhile would start it again; here it waits for the first.
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    release = asyncio.Event()
    runs: list[str] = []

    @step.do()
    async def root() -> int:
        runs.append("root")
        await release.wait()
        return 1

    @step.do()
    async def middle(root: int) -> int:
        runs.append("middle")
        return root + 1

    @step.do()
    async def leaf(middle: int) -> int:
        return middle + 1

    running = asyncio.ensure_future(asyncio.gather(middle(), leaf()))
    while runs != ["root"]:
        await asyncio.sleep(0)
    release.set()
    assert await asyncio.wait_for(running, BOUND) == [2, 3]
    assert runs == ["root", "middle"]
    assert journal.keys() == ["do:root-1", "do:middle-1", "do:leaf-1"]


async def test_a_parameter_that_names_no_step_is_a_type_error_when_called() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do()
    async def lonely(missing: int = 3) -> int:
        return missing

    with pytest.raises(TypeError) as raised:
        await lonely()
    assert str(raised.value) == "Received unexpected parameter missing"
    assert journal.trace == []


async def test_variadic_parameters_are_unexpected() -> None:
    step = WorkflowStep(ScriptedJournal())

    @step.do()
    async def spread(*args: Any) -> None:
        return None

    with pytest.raises(TypeError, match="^Received unexpected parameter args$"):
        await spread()


async def test_a_step_that_depends_on_itself_is_refused_instead_of_waiting_forever() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do()
    async def first(second: int) -> int:
        return second

    @step.do()
    async def second(first: int) -> int:
        return first

    with pytest.raises(TypeError, match="^Step .second. depends on itself: second -> first -> second$"):
        await asyncio.wait_for(first(), BOUND)
    assert journal.trace == []


async def test_dependencies_resolve_one_after_another_in_parameter_order() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    events: list[str] = []

    def recorder(label: str) -> Any:
        async def body() -> str:
            events.append(f"{label} start")
            await asyncio.sleep(0)
            events.append(f"{label} end")
            return label

        body.__name__ = label
        return body

    step.do("z")(recorder("z"))
    step.do("y")(recorder("y"))

    @step.do()
    async def joined(z: str, y: str) -> str:
        return z + y

    assert await joined() == "zy"
    assert events == ["z start", "z end", "y start", "y end"]


async def test_concurrent_resolves_all_dependencies_at_once() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    left_started = asyncio.Event()
    right_started = asyncio.Event()

    # Each finishes only once the other has started: only concurrent resolution completes.
    @step.do()
    async def left() -> int:
        left_started.set()
        await right_started.wait()
        return 2

    @step.do()
    async def right() -> int:
        right_started.set()
        await left_started.wait()
        return 3

    @step.do(concurrent=True)
    async def combined(left: int, right: int) -> int:
        return left * right

    assert await asyncio.wait_for(combined(), BOUND) == 6


async def test_ctx_holds_the_step_the_attempt_and_the_config() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    seen: list[dict[str, Any]] = []
    config = {"retries": {"limit": 2, "delay": "1 second", "backoff": "constant"}, "timeout": "1 minute"}

    @step.do("ctx-step", config=config)
    async def read_ctx(ctx: Any) -> int:
        seen.append({"name": ctx["step"]["name"], "count": ctx["step"]["count"], "attempt": ctx["attempt"], "config": ctx["config"]})
        if ctx["attempt"] < 2:
            raise ValueError("transient failure")
        return int(ctx["attempt"])

    assert await read_ctx() == 2
    assert seen == [
        {"name": "ctx-step", "count": 1, "attempt": 1, "config": config},
        {"name": "ctx-step", "count": 1, "attempt": 2, "config": config},
    ]
    assert journal.calls[0].config == config


async def test_ctx_may_be_any_parameter_and_keyword_only() -> None:
    step = WorkflowStep(ScriptedJournal())

    @step.do()
    async def a() -> str:
        return "a"

    @step.do()
    async def b(a: str, *, ctx: Any) -> str:
        return f'{a}:{ctx["step"]["name"]}'

    assert await b() == "a:b"


async def test_awaiting_a_step_directly_again_is_a_new_occurrence() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)
    counts: list[int] = []

    @step.do()
    async def tick(ctx: Any) -> int:
        counts.append(ctx["step"]["count"])
        return len(counts)

    @step.do()
    async def after(tick: int) -> int:
        return tick

    assert await tick() == 1
    assert await tick() == 2
    # A dependant gets the latest value and starts nothing.
    assert await after() == 2
    assert counts == [1, 2]
    assert journal.keys() == ["do:tick-1", "do:tick-2", "do:after-1"]


async def test_gather_over_step_calls() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    def square(n: int) -> Any:
        @step.do(f"square {n}")
        async def compute() -> int:
            return n * n

        return compute

    results = await asyncio.gather(*(square(n)() for n in range(5)))
    assert results == [0, 1, 4, 9, 16]
    assert sorted(journal.keys()) == sorted(f"do:square {n}-1" for n in range(5))


async def test_a_recorded_result_is_answered_from_the_log_without_running_the_body() -> None:
    journal = ScriptedJournal(log={"do:charge-1": Succeeded({"receipt": "r-1"})})
    step = WorkflowStep(journal)
    ran: list[int] = []

    @step.do()
    async def charge() -> dict[str, str]:
        ran.append(1)
        return {"receipt": "new"}

    assert await charge() == {"receipt": "r-1"}
    assert ran == [] and journal.attempts == []


async def test_a_recorded_failure_is_raised_with_its_class() -> None:
    journal = ScriptedJournal(log={"do:bad-1": Failed({"name": "TypeError", "message": "intentional failure"})})
    step = WorkflowStep(journal)

    @step.do()
    async def bad() -> None:
        return None

    with pytest.raises(TypeError, match="^intentional failure$"):
        await bad()


async def test_a_failing_dependency_fails_its_dependant_and_runs_again_for_the_next() -> None:
    journal = ScriptedJournal()
    step = WorkflowStep(journal)

    @step.do(config={"retries": {"limit": 0, "delay": 0}})
    async def flaky() -> int:
        raise ValueError("no")

    @step.do()
    async def first(flaky: int) -> int:
        return flaky

    @step.do()
    async def second(flaky: int) -> int:
        return flaky

    with pytest.raises(ValueError, match="^no$"):
        await first()
    with pytest.raises(ValueError):
        await second()
    # A failure is not memoised (as in Cloudflare's SDK): the second dependant calls the step again.
    assert journal.keys() == ["do:flaky-1", "do:flaky-2"]
