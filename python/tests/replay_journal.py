"""
A recording journal for the replay property (tests only): it keeps its log as the engine does, a list of
(key, outcome) in the order it recorded them, answers the keys its log already holds without running anything, and
runs the others (bodies through the SDK's callbacks, timers at once, waits for the event types it is told are sent), recording each.
It answers every call after the same number of loop turns whether its log holds the call or not: with concurrent
branches, the order in which run() makes its calls depends on when answers arrive, and the property is about what
run() does given the same answers, not about timing. `crash_after` makes it a journal that stops recording after that
many entries and fails every call from then on, as an engine that went down.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone

from durable_machines import ErrorInfo, Failed, Outcome, StepCall, StepContext, Succeeded
from durable_machines.values import JsonValue

Entry = tuple[str, Outcome]
# Every attempt's config: a plain error is retried twice, then fails the call.
CONFIG: dict[str, JsonValue] = {"retries": {"limit": 2, "delay": 0, "backoff": "constant"}, "timeout": "10 minutes"}
RETRY_LIMIT = 2
EVENT_TIME = datetime(2030, 1, 1, tzinfo=timezone.utc)


class Crashed(BaseException):
    """The journal went down: the pass ends here, without a result (not an Exception, so run() cannot catch it)."""


class ReplayJournal:
    def __init__(self, log: list[Entry], answered: frozenset[str], turns: Callable[[str], int], crash_after: int | None = None) -> None:
        self.log = list(log)
        self._recorded = dict(log)
        # The event types a wait gets an event of (its key as payload); waits for the others time out.
        self._answered = answered
        self._turns = turns
        self._crash_after = crash_after
        self._counts: Counter[str] = Counter()
        self.calls: list[str] = []
        self.body_runs: Counter[str] = Counter()
        self.ended: tuple[str, JsonValue | ErrorInfo] | None = None
        self.crashed = crash_after is not None and len(self.log) >= crash_after

    def _key(self, kind: str, name: str) -> tuple[str, int]:
        counted = f"{kind}:{name}"
        self._counts[counted] += 1
        return f"{counted}-{self._counts[counted]}", self._counts[counted]

    async def _call(self, kind: str, name: str) -> tuple[str, int, Outcome | None]:
        """The call's key and occurrence, after its turns, and its answer if the log holds it."""
        if self.crashed:
            raise Crashed()
        key, count = self._key(kind, name)
        self.calls.append(key)
        for _ in range(self._turns(key)):
            await asyncio.sleep(0)
        if self.crashed:
            raise Crashed()
        return key, count, self._recorded.get(key)

    def _record(self, key: str, outcome: Outcome) -> Outcome:
        if self.crashed:
            raise Crashed()
        self.log.append((key, outcome))
        self._recorded[key] = outcome
        if self._crash_after is not None and len(self.log) >= self._crash_after:
            self.crashed = True
        return outcome

    async def step_call(self, call: StepCall) -> Outcome:
        key, count, answer = await self._call("do", call.name)
        if answer is not None:
            return answer
        attempt = 0
        while True:
            attempt += 1
            ctx: StepContext = {"step": {"name": call.name, "count": count}, "attempt": attempt, "config": CONFIG}
            self.body_runs[key] += 1
            outcome = await call.run_attempt(ctx)
            assert not isinstance(outcome, Failed) or outcome.fatal is None, "the generated programs return only JSON"
            if isinstance(outcome, Succeeded) or outcome.error.get("nonRetryable") or attempt > RETRY_LIMIT:
                return self._record(key, outcome)

    async def sleep(self, name: str, ms: float) -> Outcome:
        key, _, answer = await self._call("sleep", name)
        return answer if answer is not None else self._record(key, Succeeded(None))

    async def sleep_until(self, name: str, at: float) -> Outcome:
        return await self.sleep(name, at)

    async def wait(self, name: str, event_type: str, timeout_ms: float | None) -> Outcome:
        key, _, answer = await self._call("waitForEvent", name)
        if answer is not None:
            return answer
        if event_type not in self._answered:
            return self._record(key, Failed({"name": "WorkflowTimeoutError", "message": f"Execution timed out after {timeout_ms:g}ms"}))
        return self._record(key, Succeeded({"type": event_type, "payload": {"key": key}, "timestamp": EVENT_TIME}))

    async def run_completed(self, output: JsonValue) -> None:
        if self.crashed:
            raise Crashed()
        self.ended = ("completed", output)

    async def run_failed(self, error: ErrorInfo) -> None:
        if self.crashed:
            raise Crashed()
        self.ended = ("failed", error)
