"""
A Hypothesis property over generated DAGs of `@step.do` steps (random dependency lists and `concurrent` flags),
awaited directly in random groups (each group gathered, one group after another), with scripted interleavings of
the journal's answers and the bodies: every occurrence is one journal call and one run of the body, a step runs
once unless awaited directly again, and a body starts only after each step it names has finished.
Derandomized: the same examples every run; a failure prints the program, shrunk, as source.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from durable_machines import WorkflowStep
from journal_double import ScriptedJournal

BOUND = 10.0


@dataclass(frozen=True)
class StepSpec:
    name: str
    deps: tuple[str, ...]
    concurrent: bool
    body_yields: int


@dataclass(frozen=True)
class Program:
    steps: tuple[StepSpec, ...]
    groups: tuple[tuple[str, ...], ...]
    journal_yields: tuple[int, ...]

    def __repr__(self) -> str:
        lines = [""]
        for spec in self.steps:
            flag = "concurrent=True" if spec.concurrent else ""
            lines.append(f"@step.do({flag})\nasync def {spec.name}({', '.join(spec.deps)}): ...  # yields {spec.body_yields} times")
        for group in self.groups:
            lines.append(f"await asyncio.gather({', '.join(f'{name}()' for name in group)})")
        lines.append(f"# the journal yields {list(self.journal_yields)} times per call, by key")
        return "\n".join(lines)


@st.composite
def programs(draw: st.DrawFn) -> Program:
    count = draw(st.integers(1, 7))
    steps = []
    for index in range(count):
        earlier = [f"s{i}" for i in range(index)]
        deps = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        steps.append(StepSpec(f"s{index}", tuple(deps), draw(st.booleans()), draw(st.integers(0, 3))))
    names = [spec.name for spec in steps]
    groups = draw(st.lists(st.lists(st.sampled_from(names), min_size=1, max_size=4).map(tuple), min_size=1, max_size=4))
    yields = draw(st.lists(st.integers(0, 3), min_size=1, max_size=5))
    return Program(tuple(steps), tuple(groups), tuple(yields))


def needed_by(program: Program, roots: set[str]) -> set[str]:
    """The steps `roots` need, transitively, themselves excluded unless another needs them."""
    deps = {spec.name: spec.deps for spec in program.steps}
    found: set[str] = set()
    stack = [dep for root in roots for dep in deps[root]]
    while stack:
        name = stack.pop()
        if name not in found:
            found.add(name)
            stack.extend(deps[name])
    return found


async def execute(program: Program) -> tuple[ScriptedJournal, list[tuple[str, str, Any]], dict[str, list[Any]]]:
    yields = program.journal_yields
    journal = ScriptedJournal(yields=lambda key: yields[sum(map(ord, key)) % len(yields)])
    step = WorkflowStep(journal)
    events: list[tuple[str, str, Any]] = []
    declared = {}
    for spec in program.steps:

        def body(spec: StepSpec) -> Any:
            async def run(*values: Any, ctx: Any) -> str:
                value = f"{spec.name}#{ctx['step']['count']}"
                events.append(("start", value, dict(zip(spec.deps, values))))
                for _ in range(spec.body_yields):
                    await asyncio.sleep(0)
                events.append(("end", value, None))
                return value

            # The parameters name the dependencies, and a keyword-only ctx: what step.do reads.
            source = f"async def {spec.name}({', '.join(spec.deps)}{', ' if spec.deps else ''}*, ctx): return await run({', '.join(spec.deps)}{',' if spec.deps else ''} ctx=ctx)"
            scope: dict[str, Any] = {"run": run}
            exec(source, scope)
            return scope[spec.name]

        declared[spec.name] = step.do(concurrent=spec.concurrent)(body(spec))
    returned: dict[str, list[Any]] = {spec.name: [] for spec in program.steps}
    for group in program.groups:
        values = await asyncio.wait_for(asyncio.gather(*(declared[name]() for name in group)), BOUND)
        for name, value in zip(group, values):
            returned[name].append(value)
    return journal, events, returned


@settings(derandomize=True, max_examples=300, deadline=None)
@given(programs())
def test_dag_steps_run_once_per_occurrence_after_their_dependencies(program: Program) -> None:
    note(repr(program))
    journal, events, returned = asyncio.run(execute(program))
    calls = journal.keys()
    starts = [value for kind, value, _ in events if kind == "start"]
    ended: set[str] = set()
    for kind, value, inputs in events:
        if kind == "end":
            ended.add(value)
            continue
        # Every dependency's value is that of an occurrence that had finished when this body started.
        for dep, received in inputs.items():
            assert received in ended, f"{value} started with {dep}={received} before it finished"
    for spec in program.steps:
        occurrences = [value for value in starts if value.split("#")[0] == spec.name]
        # One journal call and one body run per occurrence, numbered as the engine numbers keys.
        assert sorted(calls.count(f"do:{spec.name}-{n}") for n in range(1, len(occurrences) + 1)) == [1] * len(occurrences)
        assert len([key for key in calls if key.startswith(f"do:{spec.name}-")]) == len(occurrences)
        direct = sum(group.count(spec.name) for group in program.groups)
        assert len(returned[spec.name]) == direct and len(set(returned[spec.name])) == direct
        assert set(returned[spec.name]) <= set(occurrences)
        # At most once more than it was awaited directly: once as a dependency.
        assert direct <= len(occurrences) <= direct + 1
        groups_needing = [i for i, group in enumerate(program.groups) if spec.name in needed_by(program, set(group))]
        first_direct = next((i for i, group in enumerate(program.groups) if spec.name in group), None)
        if direct == 0:
            assert len(occurrences) == (1 if groups_needing else 0)
        elif not groups_needing or first_direct is not None and first_direct < groups_needing[0]:
            # Awaited directly before anything needed it: dependants reuse a direct occurrence's value.
            assert len(occurrences) == direct
