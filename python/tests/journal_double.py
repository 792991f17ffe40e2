"""
A test double of the engine's journal, for the SDK's tests only (not shipped): an in-memory, scripted stand-in that
keys calls as the engine does (`do:<name>-<n>`), answers recorded keys from its log without running anything, runs
attempts of the others through the SDK's callbacks, and keeps a trace of everything it was asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from durable_machines import DelayMs, ErrorInfo, Failed, Outcome, StepCall, StepContext, Succeeded
from durable_machines.values import JsonValue

DEFAULT_CONFIG: dict[str, JsonValue] = {"retries": {"limit": 5, "delay": 1000, "backoff": "exponential"}, "timeout": "10 minutes"}


class InstanceEnded(BaseException):
    """The double ends the pass, as the engine does when a step's output cannot be kept."""


@dataclass
class ScriptedJournal:
    # Results the log already has, by key: answered without running the body.
    log: dict[str, Outcome] = field(default_factory=dict)
    # Events sent to the instance, by type: (payload, timestamp). A wait with none times out.
    events: dict[str, list[tuple[JsonValue, datetime]]] = field(default_factory=dict)
    # Answers to sleeps and waits the double refuses (a name too long, a past sleep_until), by name.
    refusals: dict[str, ErrorInfo] = field(default_factory=dict)
    # How many times to let the loop run other tasks before an answer: scripted interleavings.
    yields: Callable[[str], int] = lambda key: 0
    trace: list[tuple[Any, ...]] = field(default_factory=list)
    calls: list[StepCall] = field(default_factory=list)
    attempts: list[tuple[str, StepContext, Outcome]] = field(default_factory=list)
    delays: list[tuple[str, int, Any]] = field(default_factory=list)
    ended: tuple[str, Any] | None = None
    _counts: dict[str, int] = field(default_factory=dict)

    def _key(self, kind: str, name: str) -> tuple[str, int]:
        counted = f"{kind}:{name}"
        count = self._counts.get(counted, 0) + 1
        self._counts[counted] = count
        return f"{counted}-{count}", count

    async def _pause(self, key: str) -> None:
        for _ in range(self.yields(key)):
            await asyncio.sleep(0)

    async def step_call(self, call: StepCall) -> Outcome:
        key, count = self._key("do", call.name)
        self.calls.append(call)
        self.trace.append(("call", key))
        await self._pause(key)
        if key in self.log:
            self.trace.append(("answer", key))
            return self.log[key]
        config = call.config if call.config is not None else DEFAULT_CONFIG
        retries = config.get("retries")
        limit = retries.get("limit", 5) if isinstance(retries, dict) else 5
        assert isinstance(limit, int)
        attempt = 0
        while True:
            attempt += 1
            ctx: StepContext = {"step": {"name": call.name, "count": count}, "attempt": attempt, "config": config}
            self.trace.append(("attempt", key, attempt))
            outcome = await call.run_attempt(ctx)
            self.attempts.append((key, ctx, outcome))
            if isinstance(outcome, Succeeded):
                break
            if outcome.fatal is not None:
                self.ended = ("fatal", outcome.fatal)
                raise InstanceEnded(outcome.fatal.instance)
            if outcome.error.get("nonRetryable") or attempt > limit:
                break
            if call.retry_delay is not None:
                answer = await call.retry_delay(ctx, outcome.error)
                self.delays.append((key, attempt, answer.ms if isinstance(answer, DelayMs) else answer))
                if isinstance(answer, Failed):
                    outcome = answer
                    break
        await self._pause(key)
        self.log[key] = outcome
        self.trace.append(("answer", key))
        return outcome

    async def sleep(self, name: str, ms: float) -> Outcome:
        key, _ = self._key("sleep", name)
        self.trace.append(("sleep", key, ms))
        return Failed(self.refusals[name]) if name in self.refusals else Succeeded(None)

    async def sleep_until(self, name: str, at: float) -> Outcome:
        key, _ = self._key("sleep", name)
        self.trace.append(("sleep.until", key, at))
        return Failed(self.refusals[name]) if name in self.refusals else Succeeded(None)

    async def wait(self, name: str, event_type: str, timeout_ms: float | None) -> Outcome:
        key, _ = self._key("waitForEvent", name)
        self.trace.append(("wait", key, event_type, timeout_ms))
        if name in self.refusals:
            return Failed(self.refusals[name])
        queued = self.events.get(event_type, [])
        if not queued:
            return Failed({"name": "WorkflowTimeoutError", "message": f"Execution timed out after {timeout_ms:g}ms"})
        payload, at = queued.pop(0)
        return Succeeded({"type": event_type, "payload": payload, "timestamp": at})

    async def run_completed(self, output: JsonValue) -> None:
        self.ended = ("completed", output)

    async def run_failed(self, error: ErrorInfo) -> None:
        self.ended = ("failed", error)

    def keys(self) -> list[str]:
        """The step keys the journal was called with, in order."""
        return [entry[1] for entry in self.trace if entry[0] == "call"]


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
