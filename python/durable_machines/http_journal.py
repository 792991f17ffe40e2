"""
`HttpJournal`: the `Journal` of one pass of run(), over the worker protocol (docs/python-protocol.md, version 1).

Each Journal method becomes one call to the engine's code-first kernel. The engine keys it and answers it: a value or
an error from its log, an attempt to run here (`run`), or `pending` (no answer in this pass: the call's await waits
until the engine ends the pass or the worker releases it). Calls go out in order, those made while a request is in
flight batched into the next one, because the engine numbers a name's occurrences in the order it receives them and
a replay must number them as the first pass did. Calls are never resent: the protocol has no idempotency key, so a
call whose answer was lost might have been recorded, and the only safe course is to drop the pass (the engine
replays run() from the top in the next one).

In a pass that has caught up with the log (an answer says `live`), a step call whose first attempt the engine will
start at once may run its body as it is made ("eager", docs/python-protocol.md): its outcome rides with the call
(`done`), one request for the step instead of two.

The pass is owned by whoever runs it (`worker.run_pass`): when the journal sees the pass end (an answer's
`end: true`, `409 lease.lost`, a lost connection), it sets `ended`, and every call in flight waits forever for the
owner to cancel run().
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, cast
from urllib.parse import quote

import httpx

from .errors import ErrorInfo
from .journal import DelayMs, Failed, Outcome, ReceivedEvent, RollbackHandler, RollbackRequest, StepCall, StepContext, Succeeded
from .values import JsonValue
from .wire import WireFormatError, from_epoch_ms, from_wire, to_wire

PROTOCOL = 1
API = "/api/python/v1"
# How long a call (not a long poll) may take before the connection counts as lost.
CALL_TIMEOUT_SECONDS = 30.0
# What a long poll may take beyond the wait it asked for before the connection counts as lost.
LONG_POLL_MARGIN_SECONDS = 10.0
# The engine takes at most this many calls, and this many bytes of them, in one request (docs/python-protocol.md, which
# allows 8 MiB a body: the rest is room for the envelope); more go in the next request.
MAX_CALLS_PER_REQUEST = 1000
MAX_CALL_BYTES_PER_REQUEST = 7 * 1024 * 1024
# How long a request waits for the eager bodies of its calls: one that finishes by then sends its outcome with its call.
LINGER_SECONDS = 0.001

logger = logging.getLogger("durable_machines")

_Kind = Literal["step", "sleep", "wait"]


class PassOver(Exception):
    """The pass ended while a request was out (`end`, `409 lease.lost`, a lost connection): nothing more to send."""


def connect(base_url: str, token: str, *, transport: httpx.AsyncBaseTransport | None = None, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """
    A client for the protocol: the engine's base URL, its bearer token, no limit on connections. `verify`: an SSL
    context made once and shared, so that a client per pass does not load the certificates again.
    """
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"authorization": f"Bearer {token}"},
        timeout=CALL_TIMEOUT_SECONDS,
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        transport=transport,
        verify=verify,
    )


def workflow_path(workflow: str) -> str:
    return f"{API}/workflows/{quote(workflow, safe='')}"


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The code and message of an error answer (`{ "error": { "code", "message" } }`), or what there is of it."""
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return str(error.get("code", "")), str(error.get("message", ""))
    except ValueError:
        pass
    return "", response.text[:200]


def _timeout_failure(ms: float) -> Failed:
    # As the TypeScript step runner's (runtime/step-runner.ts).
    shown = int(ms) if float(ms).is_integer() else ms
    return Failed({"name": "WorkflowTimeoutError", "message": f"Execution timed out after {shown}ms"})


def _retries(ctx: StepContext) -> bool:
    """Whether the engine retries a failure of this attempt: it does while the attempt is within the config's limit."""
    retries = ctx["config"].get("retries")
    limit = retries.get("limit") if isinstance(retries, dict) else None
    # A config without a readable limit: ask the delay function anyway; the engine ignores a delay it does not use.
    return not isinstance(limit, (int, float)) or ctx["attempt"] <= limit


def _received(value: JsonValue) -> ReceivedEvent:
    """A wait's value: `{type, payload, timestamp}`, its timestamp a Date (or, read leniently, epoch milliseconds)."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str) or "timestamp" not in value:
        raise WireFormatError(f"The engine answered a wait with {str(value)[:80]!r}, not {{type, payload, timestamp}}.")
    timestamp = value["timestamp"]
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        timestamp = from_epoch_ms(timestamp)
    return {"type": cast(str, value["type"]), "payload": value.get("payload"), "timestamp": cast(Any, timestamp)}


def _wire_config(config: Any, delay_function: bool) -> JsonValue | None:
    """
    A step's or a handler's config as sent: a Python delay function stays here, and the engine learns only that there
    is one (`"delay": {"function": true}`), asking for its answer with each failed result.
    """
    wired: dict[str, Any] | None = None if config is None else dict(config)
    if delay_function:
        wired = wired or {}
        retries = wired.get("retries")
        wired["retries"] = {**(retries if isinstance(retries, dict) else {}), "delay": {"function": True}}
    return None if wired is None else to_wire(cast(JsonValue, wired))["json"]


def _outcome_fields(outcome: Outcome) -> dict[str, Any]:
    """An attempt's outcome as the protocol carries it, in a `result` or in a step call's `done`."""
    if isinstance(outcome, Succeeded):
        return {"ok": True, "value": to_wire(outcome.value)}
    fields: dict[str, Any] = {"ok": False, "error": outcome.error}
    if outcome.fatal is not None:
        fields["fatal"] = {"attempt": outcome.fatal.attempt, "instance": outcome.fatal.instance}
    return fields


def _signature(call: dict[str, Any]) -> str:
    """What makes two step calls get the same attempt-1 ctx config and timeout from the engine: name, config, rollback."""
    return json.dumps([call["name"], call.get("config"), call.get("rollback")], sort_keys=True)


def _finished(body: asyncio.Task[Outcome]) -> bool:
    return body.done() and not body.cancelled() and body.exception() is None


@dataclass(frozen=True)
class _Eager:
    """A step body started at call time as attempt 1, with the occurrence count the worker predicted for it."""

    count: int
    body: asyncio.Task[Outcome]


@dataclass
class _Queued:
    call: dict[str, Any]
    answer: asyncio.Future[dict[str, Any]]
    eager: _Eager | None = None


def _adopts(call: dict[str, Any], answer: dict[str, Any]) -> bool:
    """
    Whether a still-running eager body is the attempt the engine answered its call with: the call went without `done`
    and got attempt 1 (numbered as the body was: the engine numbers a name's calls in the order they come).
    """
    run = answer.get("run")
    return "done" not in call and isinstance(run, dict) and run.get("attempt") == 1


def _fits(queue: list[_Queued]) -> int:
    """How many of the queued calls, from the first, one request takes: always one, and no more than its bounds allow."""
    size = 0
    for taken, queued in enumerate(queue[:MAX_CALLS_PER_REQUEST]):
        size += len(json.dumps(queued.call, separators=(",", ":")))
        if taken and size > MAX_CALL_BYTES_PER_REQUEST:
            return taken
    return min(len(queue), MAX_CALLS_PER_REQUEST)


class HttpJournal:
    """The engine, as one pass of one instance's run() sees it over HTTP."""

    def __init__(self, client: httpx.AsyncClient, workflow: str, instance_id: str, lease: str, *, lease_ms: float = 30_000) -> None:
        self._client = client
        self._path = f"{workflow_path(workflow)}/instances/{quote(instance_id, safe='')}"
        self.lease = lease
        self.lease_ms = lease_ms
        self.ended = asyncio.Event()
        self.end_reason = ""
        # Set on every change of what the pass is doing; its owner clears it before it looks (see `idle`).
        self.changed = asyncio.Event()
        # Counts changes, so that its owner can tell a quiet spell from one that only looks quiet.
        self.version = 0
        # run() reported its end (`completed` or `failed`), and the engine answered.
        self.run_finished = False
        self._queue: list[_Queued] = []
        self._sending: asyncio.Task[None] | None = None
        self._outcomes: dict[str, asyncio.Future[Outcome]] = {}
        self._kinds: dict[str, _Kind] = {}
        self._calls: dict[str, StepCall] = {}
        self._handlers: dict[str, RollbackHandler] = {}
        # Work for a key run() has not called yet in this pass: done once it calls it, or refused once run() ends.
        self._deferred: dict[str, list[dict[str, Any]]] = {}
        # Bodies (eager ones too), rollback handlers and the results they send: the pass is busy while any runs.
        self._work: set[asyncio.Task[Any]] = set()
        # run()'s calls waiting for an answer the engine has not given yet.
        self._waiting = 0
        # What eager bodies go by. `live.steps` of the last calls answer (None: not live).
        self._live_steps: int | None = None
        # Step calls sent or queued and not yet answered: each may take one of `live.steps`.
        self._unanswered_steps = 0
        # Step calls made in this pass, by name: the count the engine gives each, as it numbers them in arrival order.
        self._step_counts: dict[str, int] = {}
        # The ctx config and timeout of an attempt 1 the engine gave, by `_signature`; the config as JSON, so that each
        # eager body gets a copy of its own to change.
        self._first_attempts: dict[str, tuple[str, object]] = {}
        # A call of this pass was refused: whether the engine numbered it is not known here, so no count predicted from
        # now on can be trusted.
        self._refused = False

    # ---- what the pass is doing --------------------------------------------------------------------------------

    def _changed(self) -> None:
        self.version += 1
        self.changed.set()

    def idle(self) -> bool:
        """
        Nothing to do in this pass until the engine has something new: no request out, no body or handler running,
        and run() either waiting on a call or finished. (What run() does between calls, outside any step, the journal
        cannot see: its owner lets the loop settle before it takes an idle journal at its word.)
        """
        return not self.ended.is_set() and not self._queue and self._sending is None and not self._work and (self._waiting > 0 or self.run_finished)

    def end(self, reason: str) -> None:
        """The pass is over: nothing more is sent, and whatever waits on the engine waits for its owner to cancel it."""
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()
            self._changed()

    async def stop_work(self) -> None:
        """
        Cancels what still runs for the pass: the request being sent, bodies and handlers (a body in a thread runs to
        its end, and its result is dropped).
        """
        tasks = [*self._work, *([self._sending] if self._sending is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _halt(self, reason: str) -> NoReturn:
        self.end(reason)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- requests ----------------------------------------------------------------------------------------------

    async def _post(self, endpoint: str, body: dict[str, Any], timeout: float = CALL_TIMEOUT_SECONDS) -> dict[str, Any]:
        """One request under the lease; its `work` dispatched, its `end` taken. PassOver once the pass is over."""
        if self.ended.is_set():
            raise PassOver(self.end_reason)
        try:
            response = await self._client.post(f"{self._path}/{endpoint}", json={"protocol": PROTOCOL, "lease": self.lease, **body}, timeout=timeout)
        except httpx.HTTPError as error:
            raise PassOver(f"{endpoint}: {type(error).__name__}: {error}") from error
        if response.status_code == 409:
            code, message = error_of(response)
            self.end(f"{code or 'conflict'}: {message}")
            raise PassOver(self.end_reason)
        if response.status_code >= 300:
            code, message = error_of(response)
            raise PassOver(f"{endpoint} answered {response.status_code} {code}: {message}")
        data = response.json() if response.content else {}
        if not isinstance(data, dict):
            raise PassOver(f"{endpoint} answered {str(data)[:80]!r}, not an object")
        return cast(dict[str, Any], data)

    def _take(self, data: dict[str, Any]) -> None:
        for item in data.get("work") or []:
            if isinstance(item, dict):
                self._dispatch(item)
        if data.get("end") is True:
            self.end("the engine ended the pass")

    async def _ask(self, call: dict[str, Any], eager: _Eager | None = None) -> dict[str, Any]:
        """The engine's answer to one call, sent in order with the others made meanwhile."""
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(call, answer, eager))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send_queued())
        self._changed()
        return await answer

    async def _send_queued(self) -> None:
        try:
            while self._queue and not self.ended.is_set():
                await self._linger()
                taken = _fits(self._queue)
                batch, self._queue = self._queue[:taken], self._queue[taken:]
                try:
                    data = await self._post("calls", {"calls": [queued.call for queued in batch]})
                    answers = data.get("answers")
                    if not isinstance(answers, list) or len(answers) != len(batch):
                        raise PassOver(f"calls answered {len(answers) if isinstance(answers, list) else 'no'} answers for {len(batch)} calls")
                except PassOver as error:
                    # A call whose answer was lost may have been recorded: none is resent, the pass is dropped.
                    self.end(str(error))
                    break
                self._answered(batch, answers, data.get("live"))
                self._take(data)
        finally:
            self._sending = None
            for queued in self._queue:
                queued.answer.cancel()
            self._queue = []
            self._changed()

    async def _linger(self) -> None:
        """
        Gives the eager bodies of the calls about to go out up to LINGER_SECONDS: one finished by then sends its
        outcome with its call (`done`), sparing the request its result would take. The others go as plain calls.
        """
        head = self._queue[:MAX_CALLS_PER_REQUEST]
        running = [queued.eager.body for queued in head if queued.eager is not None and not queued.eager.body.done()]
        if running:
            await asyncio.wait(running, timeout=LINGER_SECONDS)
        for queued in head:
            if queued.eager is not None and "done" not in queued.call and _finished(queued.eager.body):
                queued.call["done"] = {"count": queued.eager.count, **_outcome_fields(queued.eager.body.result())}

    def _answered(self, batch: list[_Queued], answers: list[Any], live: object) -> None:
        """Hands each call its answer, and keeps what eager bodies go by: the pass's `live` and what was refused."""
        steps = live.get("steps") if isinstance(live, dict) else None
        self._live_steps = steps if isinstance(steps, int) and not isinstance(steps, bool) else None
        self._unanswered_steps -= sum(1 for queued in batch if queued.call["type"] == "step")
        for queued, answer in zip(batch, answers):
            self._refused = self._refused or (isinstance(answer, dict) and "refused" in answer)
            if not queued.answer.done():
                queued.answer.set_result(answer if isinstance(answer, dict) else {})

    async def heartbeat(self, wait_ms: float) -> None:
        """Renews the lease, waiting up to `wait_ms` for work. Transport errors reach the caller, which may retry."""
        if self.ended.is_set():
            raise PassOver(self.end_reason)
        response = await self._client.post(
            f"{self._path}/heartbeat", json={"protocol": PROTOCOL, "lease": self.lease, "waitMs": wait_ms}, timeout=wait_ms / 1000 + LONG_POLL_MARGIN_SECONDS
        )
        if response.status_code == 409:
            code, message = error_of(response)
            self.end(f"{code or 'conflict'}: {message}")
            raise PassOver(self.end_reason)
        response.raise_for_status()
        data = response.json()
        if isinstance(data, dict):
            if isinstance(data.get("leaseMs"), (int, float)):
                self.lease_ms = data["leaseMs"]
            self._take(data)

    async def release(self) -> bool:
        """
        Lets the pass go: the engine queues the instance again when something new happens. Answers whether the pass is
        over: the engine keeps it going when a saga it had under way (after a crash of its own) waited for this replay's
        rollback handlers, and sends the rollback work with its answer.
        """
        if self.ended.is_set():
            return True
        try:
            data = await self._post("release", {})
        except PassOver:
            data = {}
        if data.get("end") is False:
            self._take(data)
            return False
        self.end("released")
        return True

    # ---- answers -----------------------------------------------------------------------------------------------

    def _future(self, key: str) -> asyncio.Future[Outcome]:
        future = self._outcomes.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._outcomes[key] = future
        return future

    def _settle(self, key: str, answer: dict[str, Any], adopted: asyncio.Task[Outcome] | None = None) -> None:
        """
        What an answer for `key` says: an outcome for whoever awaits it, an attempt to run (`adopted`: an eager body
        already running it), or nothing yet.
        """
        future = self._future(key)
        if future.done():
            return
        if "refused" in answer:
            future.set_result(Failed(self._refusal(answer)))
        elif "error" in answer:
            future.set_result(Failed(cast(ErrorInfo, answer["error"])))
        elif "value" in answer:
            try:
                future.set_result(Succeeded(self._decode(key, answer["value"])))
            except WireFormatError as error:
                future.set_exception(error)
        elif isinstance(answer.get("run"), dict):
            self._start(self._run_attempt(key, answer["run"], adopted))
        # `pending`, or `stale` (the result of an attempt the engine no longer counts): the answer comes later.

    def _decode(self, key: str, value: object) -> JsonValue:
        kind = self._kinds.get(key, "step")
        if kind == "sleep":
            return None
        if value is None:
            raise WireFormatError(f"The engine answered {key} with no value.")
        decoded = from_wire(value, f"the value of {key}")
        return cast(JsonValue, _received(decoded)) if kind == "wait" else decoded

    @staticmethod
    def _refusal(answer: dict[str, Any]) -> ErrorInfo:
        refused = answer.get("refused")
        if isinstance(refused, dict):
            return {"name": str(refused.get("name", "WorkflowFatalError")), "message": str(refused.get("message", ""))}
        return {"name": "WorkflowFatalError", "message": str(refused)}

    async def _keyed(self, call: dict[str, Any], kind: _Kind, step: StepCall | None = None, eager: _Eager | None = None) -> Outcome:
        answer = await self._ask(call, eager)
        if eager is not None and not _adopts(call, answer):
            # Its outcome went as `done`, or the engine will not count it (refused, stale...): as if the worker had crashed.
            eager.body.cancel()
            eager = None
        if "refused" in answer:
            return Failed(self._refusal(answer))
        key = answer.get("key")
        if answer.get("stale") or not isinstance(key, str):
            await self._halt(f"the engine answered a {call['type']} call of this pass as stale: {str(answer)[:80]}")
        self._kinds[key] = kind
        if step is not None:
            self._calls[key] = step
            if step.rollback is not None:
                self._handlers[key] = step.rollback
            self._remember_first_attempt(call, answer)
        future = self._future(key)
        self._settle(key, answer, None if eager is None else eager.body)
        for item in self._deferred.pop(key, []):
            self._dispatch(item)
        self._waiting += 1
        self._changed()
        try:
            # Shielded: run() cancelled mid-wait leaves the outcome for the rest of the pass (a dependant may share it).
            return await asyncio.shield(future)
        finally:
            self._waiting -= 1
            self._changed()

    # ---- work --------------------------------------------------------------------------------------------------

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        self._track(asyncio.create_task(self._guarded(work)))

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._work.add(task)
        task.add_done_callback(self._finished_work)
        self._changed()

    def _finished_work(self, task: asyncio.Task[Any]) -> None:
        self._work.discard(task)
        self._changed()

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except PassOver:
            pass
        except Exception:
            # A fault of this package's, not the user's (their errors are outcomes): the pass cannot be trusted further.
            logger.exception("durable_machines: a step attempt or rollback failed inside the worker")
            self.end("a fault in the worker")

    def _dispatch(self, item: dict[str, Any]) -> None:
        key = item.get("key")
        if not isinstance(key, str):
            return
        known = self._calls if item.get("type") == "run" else self._handlers
        if key not in known:
            if self.run_finished:
                self._orphan(key, item)
            else:
                self._deferred.setdefault(key, []).append(item)
            return
        if item.get("type") == "run" and isinstance(item.get("attempt"), dict):
            self._start(self._run_attempt(key, item["attempt"]))
        elif item.get("type") == "rollback":
            self._start(self._run_rollback(key, item))

    def _orphan(self, key: str, item: dict[str, Any]) -> None:
        """Work for a key run() did not call in this pass, now that it has ended: a rollback gets an error, as a failed handler."""
        if item.get("type") == "rollback":
            error: ErrorInfo = {"name": "Error", "message": f"run() registered no rollback handler for {key} in this pass."}
            self._start(self._send_rollback_result(key, item.get("attempt"), error))
        else:
            logger.warning("durable_machines: the engine asked to run %s, which run() did not call in this pass", key)

    async def _bounded(self, work: Awaitable[Any], timeout_ms: object) -> Any:
        if isinstance(timeout_ms, (int, float)) and not isinstance(timeout_ms, bool):
            return await asyncio.wait_for(work, timeout_ms / 1000)
        return await work

    async def _attempt_outcome(self, call: StepCall, ctx: StepContext, timeout_ms: object) -> Outcome:
        """What one attempt of a body comes to, cut off at its timeout."""
        try:
            return cast(Outcome, await self._bounded(call.run_attempt(ctx), timeout_ms))
        except asyncio.TimeoutError:
            return _timeout_failure(cast(float, timeout_ms))

    async def _run_attempt(self, key: str, attempt: dict[str, Any], adopted: asyncio.Task[Outcome] | None = None) -> None:
        """Runs the attempt (or waits for the eager body already running it) and sends its result."""
        call = self._calls[key]
        ctx = cast(StepContext, attempt["ctx"])
        outcome = await (adopted if adopted is not None else self._attempt_outcome(call, ctx, attempt.get("timeoutMs")))
        result: dict[str, Any] = {"type": "result", "key": key, "attempt": attempt["attempt"], **_outcome_fields(outcome)}
        if isinstance(outcome, Failed) and outcome.fatal is None and call.retry_delay is not None and not outcome.error.get("nonRetryable") and _retries(ctx):
            delay = await call.retry_delay(ctx, outcome.error)
            result["delay"] = {"ms": delay.ms} if isinstance(delay, DelayMs) else {"error": delay.error}
        self._settle(key, await self._ask(result))

    async def _run_rollback(self, key: str, item: dict[str, Any]) -> None:
        handler = self._handlers[key]
        output = item.get("output")
        request: RollbackRequest = {
            "ctx": cast(StepContext, item.get("ctx")),
            "error": cast(ErrorInfo, item.get("error")),
            "output": None if output is None else from_wire(output, f"the output of {key}"),
        }
        timeout_ms = item.get("timeoutMs")
        try:
            failed = cast("Failed | None", await self._bounded(handler.run(request), timeout_ms))
        except asyncio.TimeoutError:
            failed = _timeout_failure(cast(float, timeout_ms))
        await self._send_rollback_result(key, item.get("attempt"), None if failed is None else failed.error)

    async def _send_rollback_result(self, key: str, attempt: object, error: ErrorInfo | None) -> None:
        await self._ask({"type": "rollbackResult", "key": key, "attempt": attempt, **({} if error is None else {"error": error})})

    # ---- the Journal interface ---------------------------------------------------------------------------------

    async def step_call(self, call: StepCall) -> Outcome:
        wire: dict[str, Any] = {"type": "step", "name": call.name}
        config = _wire_config(call.config, call.retry_delay is not None)
        if config is not None:
            wire["config"] = config
        if call.rollback is not None:
            handler_config = _wire_config(call.rollback.config, call.rollback.delay_function)
            wire["rollback"] = {} if handler_config is None else {"config": handler_config}
        count = self._step_counts[call.name] = self._step_counts.get(call.name, 0) + 1
        eager = self._eager_start(call, wire, count)
        self._unanswered_steps += 1
        return await self._keyed(wire, "step", call, eager)

    # ---- eager bodies ------------------------------------------------------------------------------------------

    def _eager_start(self, call: StepCall, wire: dict[str, Any], count: int) -> _Eager | None:
        """
        Starts the body of a step call the engine will answer with attempt 1 at once, as that attempt, when the worker
        can tell its ctx: the pass is live with a step to spare, an earlier call like it was given attempt 1 (its ctx
        config and timeout are this one's), and no count is in doubt. A step with a delay function waits for its
        answer, which it needs should the attempt fail.
        """
        if self._refused or call.retry_delay is not None or self._live_steps is None or self._live_steps <= self._unanswered_steps:
            return None
        first = self._first_attempts.get(_signature(wire))
        if first is None:
            return None
        config, timeout_ms = first
        ctx: StepContext = {"step": {"name": call.name, "count": count}, "attempt": 1, "config": json.loads(config)}
        body = asyncio.create_task(self._attempt_outcome(call, ctx, timeout_ms))
        self._track(body)
        return _Eager(count, body)

    def _remember_first_attempt(self, call: dict[str, Any], answer: dict[str, Any]) -> None:
        """An attempt 1 the engine gave this step call: its ctx config and timeout serve the calls like it."""
        run = answer.get("run")
        ctx = run.get("ctx") if isinstance(run, dict) else None
        if isinstance(run, dict) and run.get("attempt") == 1 and isinstance(ctx, dict) and isinstance(ctx.get("config"), dict):
            self._first_attempts[_signature(call)] = (json.dumps(ctx["config"]), run.get("timeoutMs"))

    async def sleep(self, name: str, ms: float) -> Outcome:
        return await self._keyed({"type": "sleep", "name": name, "ms": ms}, "sleep")

    async def sleep_until(self, name: str, at: float) -> Outcome:
        return await self._keyed({"type": "sleepUntil", "name": name, "at": at}, "sleep")

    async def wait(self, name: str, event_type: str, timeout_ms: float | None) -> Outcome:
        call: dict[str, Any] = {"type": "wait", "name": name, "eventType": event_type}
        if timeout_ms is not None:
            call["timeoutMs"] = timeout_ms
        return await self._keyed(call, "wait")

    async def run_completed(self, output: JsonValue) -> None:
        answer = await self._ask({"type": "completed", "output": to_wire(output)})
        if "refused" in answer:
            # The engine would not keep the output (too large, say): the run fails with its reason, as in TypeScript.
            await self.run_failed(self._refusal(answer))
            return
        self._ended_run(answer)

    async def run_failed(self, error: ErrorInfo) -> None:
        answer = await self._ask({"type": "failed", "error": error})
        if "refused" in answer:
            logger.warning("durable_machines: the engine refused run()'s failure: %s", self._refusal(answer))
        self._ended_run(answer)

    def _ended_run(self, answer: dict[str, Any]) -> None:
        if answer.get("stale"):
            self.end("the engine answered run()'s end as stale")
        self.run_finished = True
        for key, items in list(self._deferred.items()):
            for item in items:
                self._orphan(key, item)
        self._deferred.clear()
        self._changed()
