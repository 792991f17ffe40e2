"""
The replay property of issue 15, over generated run() programs (sequences, gathers, DAG dependencies, sleeps, waits
answered or timing out, failures caught or not): replaying from any prefix of the log makes the same calls in the same
order, runs no body whose result the prefix holds, records the same log and ends with the same output or error as the
run without interruption; and so does a replay that goes down again further on and is resumed.
Programs are data interpreted as a WorkflowEntrypoint.run, never source. Derandomized: the same examples every run; a
failure prints the program, shrunk, as pseudo-source, with the crash points Hypothesis drew.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union

from hypothesis import given, note, settings
from hypothesis import strategies as st

from durable_machines import NonRetryableError, StepContext, WorkflowEntrypoint, WorkflowEvent, WorkflowStep, run_workflow
from journal_double import at
from replay_journal import Crashed, Entry, ReplayJournal

# A run() that has not ended in this long hangs: a failure, not a wait.
BOUND = 10.0
ANSWERED = "approval"
UNANSWERED = "never"

Behaviour = Literal["value", "flaky", "error", "nonretryable"]
BEHAVIOURS: tuple[Behaviour, ...] = ("value", "flaky", "error", "nonretryable")


@dataclass(frozen=True)
class Do:
    """A step of its own; `flaky` fails its first attempt, `error` every attempt, `nonretryable` at once."""

    name: str
    behaviour: Behaviour

    def __repr__(self) -> str:
        return f'step.do("{self.name}")({self.behaviour})()'


@dataclass(frozen=True)
class Sleep:
    name: str
    until: bool

    def __repr__(self) -> str:
        return f'step.sleep_until("{self.name}", 1_900_000_000)' if self.until else f'step.sleep("{self.name}", "1 minute")'


@dataclass(frozen=True)
class Wait:
    name: str
    answered: bool

    def __repr__(self) -> str:
        event_type = ANSWERED if self.answered else UNANSWERED
        return f'step.wait_for_event("{self.name}", "{event_type}", timeout="1 hour")'


Simple = Union[Do, Sleep, Wait]


@dataclass(frozen=True)
class Gather:
    branches: tuple[Simple, ...]
    return_exceptions: bool

    def __repr__(self) -> str:
        flag = ", return_exceptions=True" if self.return_exceptions else ""
        return f"asyncio.gather({', '.join(map(repr, self.branches))}{flag})"


@dataclass(frozen=True)
class DagStep:
    name: str
    deps: tuple[str, ...]
    concurrent: bool
    behaviour: Behaviour


@dataclass(frozen=True)
class Dag:
    """Steps declared with `@step.do`, each naming earlier ones as parameters, then their roots gathered."""

    steps: tuple[DagStep, ...]
    roots: tuple[str, ...]

    def declarations(self) -> list[str]:
        return [
            f'@step.do("{spec.name}"{", concurrent=True" if spec.concurrent else ""})\n    def {spec.name}({", ".join(spec.deps)}): {spec.behaviour}'
            for spec in self.steps
        ]

    def __repr__(self) -> str:
        return f"asyncio.gather({', '.join(f'{root}()' for root in self.roots)})"


Operation = Union[Do, Sleep, Wait, Gather, Dag]


@dataclass(frozen=True)
class Statement:
    operation: Operation
    # Wrapped in try/except Exception, the error appended to the output instead of ending run().
    caught: bool

    def __repr__(self) -> str:
        declarations = self.operation.declarations() if isinstance(self.operation, Dag) else []
        line = f"out.append(await {self.operation!r})"
        return "\n    ".join([*declarations, f"try: {line}\n    except Exception as e: out.append(e)" if self.caught else line])


@dataclass(frozen=True)
class Program:
    statements: tuple[Statement, ...]
    # How many loop turns the journal takes before answering a call, picked by the call's key.
    turns: tuple[int, ...]

    def turns_for(self, key: str) -> int:
        return self.turns[sum(map(ord, key)) % len(self.turns)]

    def __repr__(self) -> str:
        body = "\n    ".join(repr(statement) for statement in self.statements)
        return (
            f"\nasync def run(self, event, step):\n    out = []\n    {body}\n    return out\n"
            f"# the journal answers after {list(self.turns)} loop turns, by key; a step's body: value returns its key and"
            " inputs, flaky fails its first attempt, error every attempt (ValueError), nonretryable raises NonRetryableError"
        )


def describe(error: BaseException) -> list[str]:
    if not isinstance(error, Exception):
        # The journal went down (Crashed) or the pass was cancelled: not a result of run().
        raise error
    return [type(error).__name__, str(error)]


def body(name: str, deps: tuple[str, ...], behaviour: Behaviour) -> Callable[..., Any]:
    """A step function whose parameters are `deps` then a keyword-only ctx; its value names its occurrence and inputs."""

    async def run(*values: str, ctx: StepContext) -> str:
        occurrence = f"{name}-{ctx['step']['count']}"
        if behaviour == "nonretryable":
            raise NonRetryableError(occurrence)
        if behaviour == "error" or behaviour == "flaky" and ctx["attempt"] == 1:
            raise ValueError(f"{occurrence} attempt {ctx['attempt']}")
        return f"{occurrence}({', '.join(values)})"

    # step.do reads the dependencies from the signature: set it from data rather than writing source.
    parameters = [inspect.Parameter(dep, inspect.Parameter.POSITIONAL_OR_KEYWORD) for dep in deps]
    setattr(run, "__signature__", inspect.Signature([*parameters, inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY)]))
    return run


async def perform(operation: Operation, step: WorkflowStep) -> Any:
    if isinstance(operation, Do):
        return await step.do(operation.name)(body(operation.name, (), operation.behaviour))()
    if isinstance(operation, Sleep):
        if operation.until:
            await step.sleep_until(operation.name, 1_900_000_000)
        else:
            await step.sleep(operation.name, "1 minute")
        return None
    if isinstance(operation, Wait):
        received = await step.wait_for_event(operation.name, ANSWERED if operation.answered else UNANSWERED, timeout="1 hour")
        return received["payload"]
    if isinstance(operation, Gather):
        results = await asyncio.gather(*(perform(branch, step) for branch in operation.branches), return_exceptions=operation.return_exceptions)
        return [describe(result) if isinstance(result, BaseException) else result for result in results]
    declared = {spec.name: step.do(spec.name, concurrent=spec.concurrent)(body(spec.name, spec.deps, spec.behaviour)) for spec in operation.steps}
    return list(await asyncio.gather(*(declared[root]() for root in operation.roots)))


class Interpreted(WorkflowEntrypoint):
    def __init__(self, program: Program) -> None:
        super().__init__()
        self.program = program

    async def run(self, event: WorkflowEvent, step: WorkflowStep) -> Any:
        out: list[Any] = []
        for statement in self.program.statements:
            try:
                out.append(await perform(statement.operation, step))
            except Exception as error:
                if not statement.caught:
                    raise
                out.append(["caught", *describe(error)])
        return out


EVENT = WorkflowEvent(payload=None, timestamp=at(0), instance_id="replayed", workflow_name="generated")


def execute(program: Program, log: list[Entry], crash_after: int | None = None) -> ReplayJournal:
    """One pass of run() against a journal holding `log`, to its end or to the journal's crash."""
    journal = ReplayJournal(log, frozenset({ANSWERED}), program.turns_for, crash_after)

    async def one_pass() -> None:
        try:
            await asyncio.wait_for(run_workflow(Interpreted(program), EVENT, journal), BOUND)
        except Crashed:
            assert journal.crashed

    asyncio.run(one_pass())
    return journal


def assert_replays_the_same(original: ReplayJournal, replay: ReplayJournal, held: list[Entry]) -> None:
    held_keys = {key for key, _ in held}
    ran_again = sorted(key for key in held_keys if replay.body_runs[key])
    assert not ran_again, f"bodies ran again although the log held their results: {ran_again}"
    assert replay.calls == original.calls
    assert replay.ended == original.ended
    assert replay.log == original.log
    # The rest ran as they did without interruption: every attempt, and only those.
    assert dict(replay.body_runs) == {key: runs for key, runs in original.body_runs.items() if key not in held_keys}


# Most steps succeed at once (value is drawn 4 times in 7), so that most programs get past their first few statements.
behaviours = st.sampled_from((*BEHAVIOURS[:1] * 3, *BEHAVIOURS))
simple_operations: st.SearchStrategy[Simple] = st.one_of(
    st.builds(Do, st.sampled_from(["a", "b"]), behaviours),
    st.builds(Sleep, st.sampled_from(["nap", "rest"]), st.booleans()),
    # Most waits get their event, for the same reason.
    st.builds(Wait, st.sampled_from(["feedback", "review"]), st.sampled_from((True, True, True, False))),
)


@st.composite
def dags(draw: st.DrawFn) -> Dag:
    steps = []
    for index in range(draw(st.integers(1, 4))):
        earlier = [f"d{i}" for i in range(index)]
        deps = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        steps.append(DagStep(f"d{index}", tuple(deps), draw(st.booleans()), draw(behaviours)))
    roots = draw(st.lists(st.sampled_from([spec.name for spec in steps]), min_size=1, max_size=3))
    return Dag(tuple(steps), tuple(roots))


operations: st.SearchStrategy[Operation] = st.one_of(
    simple_operations,
    st.builds(Gather, st.lists(simple_operations, min_size=1, max_size=5).map(tuple), st.booleans()),
    dags(),
)
programs = st.builds(
    Program,
    st.lists(st.builds(Statement, operations, st.booleans()), min_size=1, max_size=10).map(tuple),
    st.lists(st.integers(0, 3), min_size=1, max_size=4).map(tuple),
)


@settings(derandomize=True, max_examples=700, deadline=None)
@given(programs, st.data())
def test_replaying_any_prefix_of_the_log_makes_the_same_calls_and_ends_the_same(program: Program, data: st.DataObject) -> None:
    note(repr(program))
    original = execute(program, [])
    assert original.ended is not None and not original.crashed
    for length in range(len(original.log) + 1):
        assert_replays_the_same(original, execute(program, original.log[:length]), original.log[:length])
    # Down after `first` entries, replayed, down again after `later` (a body may have run without its result kept), resumed.
    first = data.draw(st.integers(0, len(original.log)), label="first crash after entries")
    later = data.draw(st.integers(first, len(original.log)), label="second crash after entries")
    crashed = execute(program, original.log[:first], crash_after=later)
    assert crashed.log == original.log[:later]
    assert not [key for key, _ in original.log[:first] if crashed.body_runs[key]]
    assert_replays_the_same(original, execute(program, crashed.log), crashed.log)
