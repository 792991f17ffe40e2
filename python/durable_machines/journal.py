"""
The one interface between a workflow's Python and the engine: `Journal`.

It mirrors the commands of the engine's code-first kernel (`CodeCommand` in core/code/decide.ts, in this
repository): `step.call`, `sleep`, `sleep.until`, `wait`, `run.completed`, `run.failed`.
The SDK says what run() asks for; the journal, the engine's side, decides everything durable: each call's key
(`do:<name>-<n>`) and occurrence count, whether the log already answers a call or an attempt must run, retries and
their delays, timeouts, timers and event waits. A step's body runs only when the journal calls back into the SDK for
an attempt, and the call's awaitable resolves only with the journal's final answer, once it is durable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypedDict, Union

from .errors import ErrorInfo
from .values import JsonValue

# A step's config as the user wrote it, minus functions: the engine validates it and fills in its defaults.
StepConfig = dict[str, JsonValue]


class StepIdentity(TypedDict):
    name: str
    count: int


class StepContext(TypedDict):
    """What a step receives as `ctx`, built by the engine: the occurrence, the attempt, the config with its defaults."""

    step: StepIdentity
    attempt: int
    config: dict[str, JsonValue]


class ReceivedEvent(TypedDict):
    """What `wait_for_event` returns."""

    type: str
    payload: JsonValue
    timestamp: datetime


@dataclass(frozen=True)
class Succeeded:
    value: JsonValue


@dataclass(frozen=True)
class FatalEnd:
    """The messages of an attempt that ends its instance (core/code/decide.ts AttemptOutcome `fatal`)."""

    attempt: str
    instance: str


@dataclass(frozen=True)
class Failed:
    error: ErrorInfo
    # Set when the instance must end rather than retry or raise into run(): the step returned what cannot be kept.
    fatal: FatalEnd | None = None


# What one attempt came to, and what a call finally got: a value or an error.
Outcome = Union[Succeeded, Failed]


@dataclass(frozen=True)
class DelayMs:
    ms: float


# What a step's delay function answered for a failure: milliseconds, or the error that fails the step for good.
DelayAnswer = Union[DelayMs, Failed]


class RollbackRequest(TypedDict):
    """What the saga hands one attempt of a rollback handler."""

    ctx: StepContext
    error: ErrorInfo
    # The step's recorded output, None when it never succeeded.
    output: JsonValue


@dataclass(frozen=True)
class RollbackHandler:
    """A `rollback=` function registered by a step call: the engine runs the saga and calls `run` per attempt."""

    config: StepConfig | None
    run: Callable[[RollbackRequest], Awaitable[Failed | None]]
    # The rollback config's delay was a function (taken out of `config`): as in TypeScript, a handler whose delay is a
    # function is not retried, since a saga asks no delay function.
    delay_function: bool = False


@dataclass(frozen=True)
class StepCall:
    """
    One `step.do` occurrence. `run_attempt` runs the body for the attempt the ctx names and reports what it came to
    (the body's dependencies were resolved before the call). `retry_delay` is set when the config's retry delay is a
    Python function: the journal asks it, after a failure it will retry, how long to wait.
    """

    name: str
    config: StepConfig | None
    run_attempt: Callable[[StepContext], Awaitable[Outcome]]
    retry_delay: Callable[[StepContext, ErrorInfo], Awaitable[DelayAnswer]] | None = None
    rollback: RollbackHandler | None = None


class Journal(Protocol):
    """The engine, as one run() of one instance sees it. Each method returns the journal's final, durable answer."""

    async def step_call(self, call: StepCall) -> Outcome:
        """`step.call`: the step's value, or the error it failed with for good (or a refusal)."""
        ...

    async def sleep(self, name: str, ms: float) -> Outcome:
        """`sleep` { name, ms }: Succeeded(None) once the timer has fired."""
        ...

    async def sleep_until(self, name: str, at: float) -> Outcome:
        """`sleep.until` { name, at }, `at` in epoch milliseconds."""
        ...

    async def wait(self, name: str, event_type: str, timeout_ms: float | None) -> Outcome:
        """`wait` { name, eventType, timeoutMs }: a ReceivedEvent, or a WorkflowTimeoutError."""
        ...

    async def run_completed(self, output: JsonValue) -> None:
        """`run.completed`: run() returned `output`."""
        ...

    async def run_failed(self, error: ErrorInfo) -> None:
        """`run.failed`: an exception escaped run()."""
        ...
