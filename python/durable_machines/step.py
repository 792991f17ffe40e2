"""
`step`, as run() receives it: Cloudflare's Python Workflows step API
(https://developers.cloudflare.com/workflows/python/python-workers-api/), over a `Journal`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, Union, cast, overload

from .durations import Duration, InvalidDurationError, to_milliseconds
from .errors import ErrorInfo, NotSerializableError, error_info, to_exception
from .journal import (
    DelayAnswer,
    DelayMs,
    Failed,
    FatalEnd,
    Journal,
    Outcome,
    ReceivedEvent,
    RollbackHandler,
    RollbackRequest,
    StepCall,
    StepConfig,
    StepContext,
    Succeeded,
)
from .user_code import call_user
from .values import JsonValue, to_json_value

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# The parameter that receives the step context instead of a dependency's value.
CTX = "ctx"
# A delay function that has not answered in this long fails its step for good (runtime/delay-function.ts).
DELAY_FUNCTION_SECONDS = 5.0



def _bounded_repr(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 200 else shown[:199] + "…"


def _delay_failure(message: str) -> Failed:
    return Failed({"name": "NonRetryableDelayError", "message": message, "nonRetryable": True})


@dataclass(frozen=True)
class _Argument:
    """One parameter of a step function: where its value comes from, and how it is passed."""

    parameter: str
    source: str
    keyword: bool


def _arguments(function: Callable[..., Any], declared: dict[str, StepFunction[Any]]) -> list[_Argument]:
    """Each parameter names a declared step or `ctx` (a step named `ctx` wins, as in Cloudflare's SDK); defaults are ignored."""
    arguments: list[_Argument] = []
    for parameter in inspect.signature(function).parameters.values():
        variadic = parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        if variadic or (parameter.name not in declared and parameter.name != CTX):
            raise TypeError(f"Received unexpected parameter {parameter.name}")
        arguments.append(_Argument(parameter.name, parameter.name, parameter.kind == inspect.Parameter.KEYWORD_ONLY))
    return arguments


class _Occurrence:
    """A step call in flight, and the calls it waits for as its dependencies: to refuse a wait that would never end."""

    def __init__(self, name: str, signal: asyncio.Future[Any]) -> None:
        self.name = name
        self.signal = signal
        self.awaits: set[_Occurrence] = set()

    def path_to(self, target: _Occurrence) -> list[str] | None:
        """The names from this occurrence to `target` along what each waits for, if it waits for it at all."""
        stack: list[tuple[_Occurrence, list[str]]] = [(self, [self.name])]
        seen: set[int] = set()
        while stack:
            current, path = stack.pop()
            if current is target:
                return path
            if id(current) in seen:
                continue
            seen.add(id(current))
            stack.extend((next_one, [*path, next_one.name]) for next_one in current.awaits)
        return None


class StepFunction(Generic[T_co]):
    """What `@step.do` returns: awaiting a call of it runs the step (a new occurrence each time it is called directly)."""

    def __init__(self, step: WorkflowStep, name: str, function: Callable[..., Any], concurrent: bool, config: StepConfig | None,
                 delay: Callable[..., Any] | None, rollback: Callable[..., Any] | None, rollback_config: StepConfig | None,
                 rollback_delay_function: bool) -> None:
        self.name = name
        self.__wrapped__ = function
        self._step = step
        self._function = function
        self._concurrent = concurrent
        self._config = config
        self._delay = delay
        self._rollback = rollback
        self._rollback_config = rollback_config
        self._rollback_delay_function = rollback_delay_function

    def __call__(self) -> Coroutine[Any, Any, T_co]:
        return self._step._occurrence(self)

    def __repr__(self) -> str:
        return f"<step {self.name!r}>"


class StepDecorator(Protocol):
    @overload
    def __call__(self, function: Callable[..., Awaitable[T]]) -> StepFunction[T]: ...
    @overload
    def __call__(self, function: Callable[..., T]) -> StepFunction[T]: ...


def _split_config(name: str, config: object, what: str) -> tuple[StepConfig | None, Callable[..., Any] | None]:
    """The config as data for the engine, and the retry delay function taken out of it, if any."""
    if config is None:
        return None, None
    if not isinstance(config, dict):
        raise TypeError(f'{what} for "{name}" must be a dict, got {type(config).__name__}')
    retries = config.get("retries")
    delay = retries.get("delay") if isinstance(retries, dict) else None
    if callable(delay):
        # The engine gets the rest of the config; the function stays here and answers each retry's delay.
        config = {**config, "retries": {key: value for key, value in cast(dict[str, Any], retries).items() if key != "delay"}}
    data = to_json_value(config, f'{what} for "{name}"')
    return cast(StepConfig, data), delay if callable(delay) else None


class WorkflowStep:
    """
    The `step` of one run() (one replay of it): steps declared in it by name, the values of those that finished,
    and those in flight. Everything durable goes through the journal.
    """

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._declared: dict[str, StepFunction[Any]] = {}
        self._finished: dict[str, Any] = {}
        self._in_flight: dict[str, _Occurrence] = {}

    def do(self, name: str | None = None, *, concurrent: bool = False, config: dict[str, Any] | None = None,
           rollback: Callable[..., Any] | None = None, rollback_config: dict[str, Any] | None = None) -> StepDecorator:
        """
        Declares a step; nothing runs until its function is called and awaited. Its parameters name the steps it
        depends on (resolved first: in order, or all at once with `concurrent=True`) or `ctx`. `rollback` (ours, not
        Cloudflare's) is called with `{"ctx", "error", "output"}` if the instance rolls back, newest step first.
        """
        if name is not None and not isinstance(name, str):
            raise TypeError(f"A step's name must be a string, got {type(name).__name__}")
        if rollback is not None and not callable(rollback):
            raise TypeError(f'Rollback for "{name}" must be a function')

        def decorate(function: Callable[..., Any]) -> StepFunction[Any]:
            if not callable(function):
                raise TypeError(f"@step.do decorates a function, got {type(function).__name__}")
            step_name = name if name is not None else function.__name__
            step_config, delay = _split_config(step_name, config, "Step config")
            handler_config, handler_delay = _split_config(step_name, rollback_config, "Rollback config")
            declared = StepFunction[Any](self, step_name, function, concurrent, step_config, delay, rollback, handler_config, handler_delay is not None)
            self._declared[step_name] = declared
            return declared

        return cast(StepDecorator, decorate)

    async def sleep(self, name: str, duration: Duration) -> None:
        """Sleeps for `duration`: milliseconds or a string like "10 seconds"."""
        _check_name(name)
        _raise_failure(await self._journal.sleep(name, to_milliseconds(duration)))

    async def sleep_until(self, name: str, timestamp: Union[datetime, int, float]) -> None:
        """Sleeps until `timestamp`: a datetime (a naive one is local time, as `datetime.timestamp` reads it) or epoch seconds."""
        _check_name(name)
        if isinstance(timestamp, datetime):
            seconds = timestamp.timestamp()
        elif isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
            seconds = timestamp
        else:
            raise TypeError(f"sleep_until needs a datetime or epoch seconds, got {_bounded_repr(timestamp)}")
        _raise_failure(await self._journal.sleep_until(name, seconds * 1000))

    async def wait_for_event(self, name: str, event_type: str, /, timeout: Duration = "24 hours") -> ReceivedEvent:
        """Waits for an event of `event_type` sent to the instance; raises WorkflowTimeoutError when `timeout` passes first."""
        _check_name(name)
        if not isinstance(event_type, str):
            raise TypeError(f"An event type must be a string, got {type(event_type).__name__}")
        outcome = await self._journal.wait(name, event_type, to_milliseconds(timeout))
        _raise_failure(outcome)
        received = cast(ReceivedEvent, cast(Succeeded, outcome).value)
        return {"type": received["type"], "payload": received["payload"], "timestamp": received["timestamp"]}

    async def _occurrence(self, declared: StepFunction[T], waiter: _Occurrence | None = None) -> T:
        """One call of a step: its dependencies, then the journal's answer for it. `waiter`: the step that needs it."""
        arguments = _arguments(declared._function, self._declared)
        occurrence = _Occurrence(declared.name, asyncio.get_running_loop().create_future())
        # A failure nobody else awaited is still retrieved: it is raised to the caller below.
        occurrence.signal.add_done_callback(lambda done: None if done.cancelled() else done.exception())
        # In flight from the start, dependencies included, so that a dependant arriving meanwhile waits for this one.
        self._in_flight[declared.name] = occurrence
        if waiter is not None:
            waiter.awaits.add(occurrence)
        try:
            values = await self._dependencies(declared, arguments, occurrence)
            outcome = await self._journal.step_call(self._call(declared, arguments, values))
            if isinstance(outcome, Failed):
                raise to_exception(outcome.error)
            self._finished[declared.name] = outcome.value
            if not occurrence.signal.done():
                occurrence.signal.set_result(outcome.value)
            return cast(T, outcome.value)
        except BaseException as error:
            if not occurrence.signal.done():
                if isinstance(error, asyncio.CancelledError):
                    occurrence.signal.cancel()
                else:
                    occurrence.signal.set_exception(error)
            raise
        finally:
            if waiter is not None:
                waiter.awaits.discard(occurrence)
            if self._in_flight.get(declared.name) is occurrence:
                del self._in_flight[declared.name]

    async def _dependencies(self, declared: StepFunction[Any], arguments: list[_Argument], occurrence: _Occurrence) -> dict[str, Any]:
        sources = [argument.source for argument in arguments if argument.source != CTX or argument.source in self._declared]
        if declared._concurrent:
            resolved = await asyncio.gather(*(self._dependency(source, occurrence) for source in sources))
        else:
            resolved = [await self._dependency(source, occurrence) for source in sources]
        return dict(zip(sources, resolved))

    async def _dependency(self, name: str, waiter: _Occurrence) -> Any:
        """A finished dependency's value; an in-flight one awaited; otherwise a new occurrence of it."""
        if name in self._finished:
            return self._finished[name]
        in_flight = self._in_flight.get(name)
        if in_flight is None:
            return await self._occurrence(self._declared[name], waiter)
        cycle = in_flight.path_to(waiter)
        if cycle is not None:
            # Waiting would never end: the step waits, through its dependencies, for itself.
            raise TypeError(f"Step {waiter.name!r} depends on itself: {' -> '.join([waiter.name, *cycle])}")
        waiter.awaits.add(in_flight)
        try:
            # Shielded: a dependant cancelled while waiting does not cancel the step it waits for.
            return await asyncio.shield(in_flight.signal)
        finally:
            waiter.awaits.discard(in_flight)

    def _call(self, declared: StepFunction[Any], arguments: list[_Argument], values: dict[str, Any]) -> StepCall:
        name, function = declared.name, declared._function

        async def run_attempt(ctx: StepContext) -> Outcome:
            positional: list[Any] = []
            keywords: dict[str, Any] = {}
            for argument in arguments:
                value = values[argument.source] if argument.source in values else ctx
                if argument.keyword:
                    keywords[argument.parameter] = value
                else:
                    positional.append(value)
            try:
                result = await call_user(function, *positional, **keywords)
            except Exception as error:
                return Failed(error_info(error))
            try:
                return Succeeded(to_json_value(result, f'The output of step "{name}"'))
            except NotSerializableError as error:
                # As the TypeScript form: the instance ends, run() gets no answer (core/code/decide.ts endFatally).
                instance = f'The execution of the Workflow instance was terminated, as the step "{name}" returned a value which is not serialisable'
                return Failed({**error_info(error), "nonRetryable": True}, fatal=FatalEnd(attempt=str(error), instance=instance))

        return StepCall(
            name=name,
            config=declared._config,
            run_attempt=run_attempt,
            retry_delay=None if declared._delay is None else _retry_delay(declared._delay),
            rollback=None if declared._rollback is None else RollbackHandler(declared._rollback_config, _undo(declared._rollback), declared._rollback_delay_function),
        )


def _retry_delay(delay: Callable[..., Any]) -> Callable[[StepContext, ErrorInfo], Awaitable[DelayAnswer]]:
    """The journal's question to a delay function of `{ctx, error}`, with Cloudflare's messages for what goes wrong."""

    async def answer(ctx: StepContext, error: ErrorInfo) -> DelayAnswer:
        step = f'{ctx["step"]["name"]}-{ctx["step"]["count"]}'
        try:
            result = await asyncio.wait_for(call_user(delay, {"ctx": ctx, "error": to_exception(error)}), DELAY_FUNCTION_SECONDS)
        except asyncio.TimeoutError:
            return _delay_failure(f'The delay function for step "{step}" did not return within {DELAY_FUNCTION_SECONDS:g} seconds')
        except Exception as thrown:
            return _delay_failure(f'The delay function for step "{step}" threw an error: {thrown}')
        try:
            return DelayMs(to_milliseconds(result))
        except InvalidDurationError:
            return _delay_failure(
                f'The delay function for step "{step}" returned an invalid delay value (expected a number of ms or a duration string like "30 seconds"), got {_bounded_repr(result)}'
            )

    return answer


def _undo(rollback: Callable[..., Any]) -> Callable[[RollbackRequest], Awaitable[Failed | None]]:
    async def run(request: RollbackRequest) -> Failed | None:
        try:
            await call_user(rollback, {"ctx": request["ctx"], "error": to_exception(request["error"]), "output": request["output"]})
        except Exception as error:
            return Failed(error_info(error))
        return None

    return run


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"A step's name must be a string, got {type(name).__name__}")


def _raise_failure(outcome: Outcome) -> None:
    if isinstance(outcome, Failed):
        raise to_exception(outcome.error)

