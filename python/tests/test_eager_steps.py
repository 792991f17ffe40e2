"""
Eager steps (fused first attempts): in a live pass, a step call whose ctx the worker can tell runs its body at call
time and sends the outcome with the call (`done`), one request a step. Against the scripted engine (tests/fake_engine.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from durable_machines import WorkflowEntrypoint, WorkflowFatalError
from fake_engine import FakeEngine, wire
from test_worker_protocol import one_pass


def calls_requests(engine: FakeEngine) -> list[list[dict[str, Any]]]:
    """The calls of each `calls` request, in order."""
    return [body["calls"] for endpoint, body in engine.requests if endpoint == "calls"]


def counting(step: Any, counts: list[int], **config: Any) -> Any:
    """Declares a step named "s" in run() that returns its ctx count, recording each in `counts`."""

    @step.do("s", **config)
    async def s(ctx: Any) -> Any:
        counts.append(ctx["step"]["count"])
        return ctx["step"]["count"]

    return s


def chain(n: int, counts: list[int], **config: Any) -> type[WorkflowEntrypoint]:
    """A workflow of n steps named "s" one after another, each returning its ctx count (recorded in `counts`)."""

    class Chain(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            s = counting(step, counts, **config)

            return [await s() for _ in range(n)]

    return Chain


async def test_a_chain_of_same_name_steps_sends_one_request_a_step_after_the_first() -> None:
    counts: list[int] = []
    engine = FakeEngine()
    await one_pass(engine, chain(5, counts))

    assert counts == [1, 2, 3, 4, 5]
    assert engine.outcome == ("completed", {"json": [1, 2, 3, 4, 5]})
    # The first: a call, its result. Each next: its call with its outcome. Then the end.
    assert len(calls_requests(engine)) == 2 + 4 + 1
    assert [call.get("done") for call in engine.calls("step")] == [None, *({"count": n, "ok": True, "value": {"json": n}} for n in range(2, 6))]
    assert [call["key"] for call in engine.calls("result")] == ["do:s-1"]


async def test_an_engine_that_never_says_live_gets_no_eager_bodies() -> None:
    counts: list[int] = []
    engine = FakeEngine(live=False)
    await one_pass(engine, chain(3, counts))

    assert counts == [1, 2, 3]
    assert all("done" not in call for call in engine.calls("step"))
    assert [call["key"] for call in engine.calls("result")] == ["do:s-1", "do:s-2", "do:s-3"]


async def test_a_replay_runs_no_logged_body_and_sends_no_outcome_before_the_pass_is_live() -> None:
    counts: list[int] = []

    class Branches(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            s = counting(step, counts)

            @step.do("t")
            async def t() -> Any:
                return "t"

            async def branch() -> Any:
                await t()
                return await s()

            # s-1 and t-1 go together; s-2 comes after t-1's answer, s-3 after both.
            both = await asyncio.gather(s(), branch())
            return [*both, await s()]

    # An earlier pass recorded t-1 and s-2, not s-1 (its result was lost): s-1 runs again, and its attempt 1 tells the
    # worker s's ctx before the pass has called s-2, which the log answers.
    engine = FakeEngine(results={"do:t-1": {"value": wire("t")}, "do:s-2": {"value": wire(2)}})
    await one_pass(engine, Branches)

    assert engine.outcome == ("completed", {"json": [1, 2, 3]})
    assert sorted(counts) == [1, 3]
    assert [call.get("done", {}).get("count") for call in engine.calls("step") if call["name"] == "s"] == [None, None, 3]


async def test_a_body_slower_than_the_linger_goes_as_a_plain_call_and_is_adopted_as_attempt_1() -> None:
    engine = FakeEngine()
    attempts: list[tuple[int, int]] = []

    class Slow(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do("s")
            async def s(ctx: Any) -> Any:
                attempts.append((ctx["step"]["count"], ctx["attempt"]))
                # The second holds until the engine has its call, which therefore went without its outcome.
                while ctx["step"]["count"] == 2 and len(engine.calls("step")) < 2:
                    await asyncio.sleep(0)
                return ctx["step"]["count"]

            return [await s(), await s()]

    await one_pass(engine, Slow)

    assert attempts == [(1, 1), (2, 1)]
    assert all("done" not in call for call in engine.calls("step"))
    assert [(call["key"], call["attempt"], call["value"]) for call in engine.calls("result")] == [("do:s-1", 1, {"json": 1}), ("do:s-2", 1, {"json": 2})]
    assert engine.outcome == ("completed", {"json": [1, 2]})


async def test_a_failed_eager_attempt_rides_as_done_and_its_retry_comes_as_attempt_2() -> None:
    attempts: list[tuple[int, int]] = []

    class Flaky(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do("s", config={"retries": {"limit": 1, "delay": 0}})
            async def s(ctx: Any) -> Any:
                attempts.append((ctx["step"]["count"], ctx["attempt"]))
                if ctx["step"]["count"] == 2 and ctx["attempt"] == 1:
                    raise ConnectionError("flaky")
                return ctx["attempt"]

            return [await s(), await s()]

    engine = FakeEngine(limits={"s": 1})
    await one_pass(engine, Flaky)

    assert attempts == [(1, 1), (2, 1), (2, 2)]
    assert engine.calls("step")[1]["done"] == {"count": 2, "ok": False, "error": {"name": "ConnectionError", "message": "flaky"}}
    assert [(call["key"], call["attempt"], call["ok"]) for call in engine.calls("result")] == [("do:s-1", 1, True), ("do:s-2", 2, True)]
    assert engine.outcome == ("completed", {"json": [1, 2]})


async def test_a_step_with_a_delay_function_is_never_eager() -> None:
    counts: list[int] = []
    engine = FakeEngine()
    await one_pass(engine, chain(3, counts, config={"retries": {"limit": 1, "delay": lambda info: 10}}))

    assert counts == [1, 2, 3]
    assert all("done" not in call for call in engine.calls("step"))
    assert len(engine.calls("result")) == 3


async def test_a_refused_call_turns_eager_bodies_off_for_the_rest_of_the_pass() -> None:
    counts: list[int] = []

    class Refused(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            s = counting(step, counts)

            await s()
            try:
                await step.sleep("too long", 10)
            except WorkflowFatalError:
                pass
            return [await s(), await s()]

    engine = FakeEngine(refuse={"too long": "Step name too long"})
    await one_pass(engine, Refused)

    assert counts == [1, 2, 3]
    assert all("done" not in call for call in engine.calls("step"))
    assert engine.outcome == ("completed", {"json": [2, 3]})


async def test_live_steps_bound_the_bodies_started_before_the_engine_answers() -> None:
    counts: list[int] = []

    class Wide(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            s = counting(step, counts)

            await s()
            return await asyncio.gather(s(), s(), s())

    # After s-1 the limit leaves two steps: two of the three start at once, the third is refused without running.
    engine = FakeEngine(step_limit=3)
    await one_pass(engine, Wide)

    assert sorted(counts) == [1, 2, 3]
    assert [call.get("done", {}).get("count") for call in engine.calls("step")] == [None, 2, 3, None]
    assert engine.outcome is not None and engine.outcome[1]["name"] == "WorkflowFatalError"


async def test_a_gather_of_same_name_steps_numbers_each_body_as_the_engine_does() -> None:
    counts: list[int] = []

    class Fan(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            s = counting(step, counts)

            first = await s()
            return [first, *await asyncio.gather(*(s() for _ in range(5)))]

    engine = FakeEngine()
    await one_pass(engine, Fan)

    assert sorted(counts) == [1, 2, 3, 4, 5, 6]
    assert [call.get("done", {}).get("count") for call in engine.calls("step")] == [None, 2, 3, 4, 5, 6]
    # The engine took each outcome under the key of its count: s-n holds n.
    assert {key: value for key, value in engine.results.items()} == {f"do:s-{n}": {"value": {"json": n}} for n in range(1, 7)}
    assert engine.outcome == ("completed", {"json": [1, 2, 3, 4, 5, 6]})


async def test_an_eager_body_still_running_when_the_pass_ends_is_cancelled_with_it() -> None:
    cancelled = asyncio.Event()

    class Hangs(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do("s")
            async def s(ctx: Any) -> Any:
                if ctx["step"]["count"] == 2:
                    try:
                        await asyncio.Event().wait()
                    except asyncio.CancelledError:
                        cancelled.set()
                        raise
                return 1

            await s()
            await s()

    engine = FakeEngine()
    # The lease is fenced at the second step's call: the pass ends while its body, started with the call, still runs.
    engine.lose_lease = lambda endpoint, body: endpoint == "calls" and len(engine.calls("step")) == 2
    reason = await one_pass(engine, Hangs)

    assert reason.startswith("lease.lost") and cancelled.is_set()
