"""
A test double of the engine's side of the worker protocol (docs/python-protocol.md), for the worker's tests only
(not shipped): an httpx.MockTransport handler with an in-memory, scripted log. It keys calls as the engine does
(`do:<name>-<n>` per pass), answers keys its log holds, tells the worker to run the others, retries a failed attempt
through heartbeat work, runs a saga of rollbacks after `failed`, and records every request it was sent. Once a pass
has called every key its log held, its answers say `live`, and it takes a step call's `done` as its first attempt. It checks the
lease and the token as the engine would; it is not the engine's logic, only enough of it to drive the worker.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

TOKEN = "test-token"
WORKFLOW = "pipeline"


def wire(value: Any) -> dict[str, Any]:
    """A plain-JSON value as the engine sends it (no metadata)."""
    return {"json": value}


@dataclass
class FakeEngine:
    # The log: a step's recorded answer by key, `{"value": <wire>}` or `{"error": {name, message}}`.
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Sleeps whose timer has fired, by key; any other sleep is pending.
    fired: set[str] = field(default_factory=set)
    # Events the instance received, by event type: the wire value of `{type, payload, timestamp}`.
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Calls the kernel refuses, by name: the message of the WorkflowFatalError.
    refuse: dict[str, str] = field(default_factory=dict)
    # Retries each step gets (the config's limit), by name; none by default.
    limits: dict[str, int] = field(default_factory=dict)
    timeout_ms: float = 600_000
    # Step calls a pass may make: a call past it is refused, and `live.steps` counts what is left.
    step_limit: int = 10_000
    # Whether answers say `live` when the pass has caught up with its log (False: an engine before fused steps).
    live: bool = True
    lease_ms: float = 30_000
    # Asked of every request under a lease before anything else: True fences the lease (a lapse, another pass).
    lose_lease: Callable[[str, dict[str, Any]], bool] = lambda endpoint, body: False
    # Instances waiting for a worker: each the task's event.
    queued: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outcome: tuple[str, Any] | None = None
    rolled_back: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Instances whose run() completed, in order.
    completed: list[str] = field(default_factory=list)
    # A saga the log has under way (the engine went down in it), with its error: a release resumes it in the pass.
    saga_under_way: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.lease: str | None = None
        self.instance: str | None = None
        self.completion = asyncio.Event()
        self.leases = 0
        self.pass_over = asyncio.Event()
        self._queued = asyncio.Event()
        self._counts: dict[str, int] = {}
        self._attempts: dict[str, int] = {}
        self._names: dict[str, tuple[str, int]] = {}
        self._rollbacks: list[str] = []
        self._saga: list[str] = []
        self._work: list[dict[str, Any]] = []
        self._work_ready = asyncio.Event()
        self._logged: set[str] = set()
        self._called: set[str] = set()
        self._step_calls = 0
        self._run_ended = False

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def queue(self, instance_id: str, payload: Any = None) -> None:
        self.queued.append({"payload": {} if payload is None else payload, "timestamp": 1765200000000, "instanceId": instance_id, "workflowName": WORKFLOW})
        self._queued.set()

    def calls(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every call the worker sent, in order (only those of `kind` when given)."""
        sent = [call for endpoint, body in self.requests if endpoint == "calls" for call in body["calls"]]
        return [call for call in sent if kind is None or call["type"] == kind]

    def endpoints(self) -> list[str]:
        return [endpoint for endpoint, _ in self.requests]

    # ---- HTTP ----------------------------------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": {"code": "auth.missing", "message": "bearer token required"}})
        body = json.loads(request.content)
        assert body["protocol"] == 1
        parts = request.url.path.split("/")
        assert parts[:4] == ["", "api", "python", "v1"] and parts[4] == "workflows", request.url.path
        if parts[5] != WORKFLOW:
            return httpx.Response(404, json={"error": {"code": "workflow.not_found", "message": f"no workflow {parts[5]}"}})
        endpoint = parts[-1]
        self.requests.append((endpoint, body))
        if endpoint == "claim":
            return await self._claim(body)
        if body.get("lease") != self.lease or self.lose_lease(endpoint, body):
            self.lease = None
            self._work_ready.set()
            return httpx.Response(409, json={"error": {"code": "lease.lost", "message": "this lease was fenced"}})
        if endpoint == "release":
            if self.saga_under_way is not None:
                self.outcome = ("failed", self.saga_under_way)
                self._saga = [key for key in reversed(self._rollbacks) if "value" in self.results.get(key, {})]
                self.saga_under_way = None
                self._next_rollback(self.outcome[1])
                return httpx.Response(200, json={"work": self._take_work(), "end": self.lease is None})
            self._end_pass()
            return httpx.Response(200, json={"work": [], "end": True})
        if endpoint == "heartbeat":
            return await self._heartbeat(body)
        answers = [self._answer(call) for call in body["calls"]]
        reply = {"answers": answers, "work": self._take_work(), "end": self.lease is None}
        if self._live():
            reply["live"] = {"steps": self.step_limit - self._step_calls}
        return httpx.Response(200, json=reply)

    async def _claim(self, body: dict[str, Any]) -> httpx.Response:
        if not self.queued:
            self._queued.clear()
            try:
                await asyncio.wait_for(self._queued.wait(), body["waitMs"] / 1000)
            except asyncio.TimeoutError:
                return httpx.Response(204)
        event = self.queued.pop(0)
        self.leases += 1
        self.lease = f"lease-{self.leases}"
        self.instance = event["instanceId"]
        self.pass_over.clear()
        self._counts.clear()
        self._work.clear()
        self._logged = set(self.results) | self.fired
        self._called.clear()
        self._step_calls = 0
        self._run_ended = False
        task = {"workflow": WORKFLOW, "instanceId": event["instanceId"], "lease": self.lease, "leaseMs": self.lease_ms, "event": event}
        return httpx.Response(200, json={"protocol": 1, "task": task})

    async def _heartbeat(self, body: dict[str, Any]) -> httpx.Response:
        if not self._work:
            self._work_ready.clear()
            try:
                await asyncio.wait_for(self._work_ready.wait(), body["waitMs"] / 1000)
            except asyncio.TimeoutError:
                pass
        if self.lease != body["lease"]:
            return httpx.Response(409, json={"error": {"code": "lease.lost", "message": "this lease was fenced"}})
        return httpx.Response(200, json={"work": self._take_work(), "end": False, "leaseMs": self.lease_ms})

    def give(self, work: dict[str, Any]) -> None:
        """Work for the pass, delivered with the next answer or heartbeat."""
        self._work.append(work)
        self._work_ready.set()

    def _take_work(self) -> list[dict[str, Any]]:
        work, self._work = self._work, []
        return work

    def _end_pass(self) -> None:
        self.lease = None
        self.pass_over.set()
        self._work_ready.set()

    # ---- the kernel, as far as the tests need it ----------------------------------------------------------------

    def _live(self) -> bool:
        """The pass has called every key its log held when it began, and run() has not ended (nor a saga begun)."""
        return self.live and self.lease is not None and not self._run_ended and self._step_calls < self.step_limit and self._logged <= self._called

    def _key(self, kind: str, name: str) -> tuple[str, int]:
        counted = f"{kind}:{name}"
        self._counts[counted] = self._counts.get(counted, 0) + 1
        key = f"{counted}-{self._counts[counted]}"
        self._called.add(key)
        return key, self._counts[counted]

    def _attempt(self, key: str) -> dict[str, Any]:
        name, count = self._names[key]
        attempt = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempt
        config = {"retries": {"limit": self.limits.get(name, 0), "delay": 1000, "backoff": "constant"}, "timeout": self.timeout_ms}
        return {"attempt": attempt, "ctx": {"step": {"name": name, "count": count}, "attempt": attempt, "config": config}, "timeoutMs": self.timeout_ms}

    def _answer(self, call: dict[str, Any]) -> dict[str, Any]:
        kind = call["type"]
        if kind in ("step", "sleep", "sleepUntil", "wait") and call["name"] in self.refuse:
            return {"refused": {"name": "WorkflowFatalError", "message": self.refuse[call["name"]]}}
        if kind == "step" and self._step_calls >= self.step_limit:
            return {"refused": {"name": "WorkflowFatalError", "message": f"more than {self.step_limit} steps in one pass"}}
        if kind == "step":
            self._step_calls += 1
            key, count = self._key("do", call["name"])
            self._names[key] = (call["name"], count)
            if "rollback" in call and key not in self._rollbacks:
                self._rollbacks.append(key)
            if key in self.results:
                return {"key": key, **self.results[key]}
            attempt = self._attempt(key)
            done = call.get("done")
            if done is not None and attempt["attempt"] == 1 and done["count"] == count:
                return self._record(key, {**done, "attempt": 1}, retry_now=True)
            return {"key": key, "run": attempt}
        if kind == "result":
            key = call["key"]
            if call["attempt"] != self._attempts.get(key):
                return {"stale": True}
            return self._record(key, call, retry_now=False)
        if kind in ("sleep", "sleepUntil"):
            key, _ = self._key("sleep", call["name"])
            return {"key": key, "value": None} if key in self.fired else {"key": key, "pending": True}
        if kind == "wait":
            key, _ = self._key("waitForEvent", call["name"])
            event = self.events.get(call["eventType"])
            return {"key": key, "value": event} if event is not None else {"key": key, "pending": True}
        if kind in ("completed", "failed"):
            self._run_ended = True
        if kind == "completed":
            self.outcome = ("completed", call["output"])
            self.completed.append(str(self.instance))
            self.completion.set()
            self._end_pass()
            return {"ok": True}
        if kind == "failed":
            self.outcome = ("failed", call["error"])
            self._saga = [key for key in reversed(self._rollbacks) if "value" in self.results.get(key, {})]
            self._next_rollback(call["error"])
            return {"ok": True}
        if kind == "rollbackResult":
            self.rolled_back.append((call["key"], call))
            self._next_rollback(self.outcome[1] if self.outcome else {})
            return {"ok": True}
        raise AssertionError(f"unknown call {call}")

    def _record(self, key: str, result: dict[str, Any], *, retry_now: bool) -> dict[str, Any]:
        """
        An attempt's result (a `result` call, or a step call's `done`): the value or the error for good, or the retry:
        at once for a `done` (its answer runs attempt 2), else as work, as a timer firing would bring it (its delay
        "passes" at once).
        """
        if result["ok"]:
            self.results[key] = {"value": result["value"]}
            return {"key": key, **self.results[key]}
        name, _ = self._names[key]
        if not result["error"].get("nonRetryable") and result["attempt"] <= self.limits.get(name, 0):
            retry = self._attempt(key)
            if retry_now:
                return {"key": key, "run": retry}
            self.give({"type": "run", "key": key, "attempt": retry})
            return {"key": key, "pending": True}
        self.results[key] = {"error": {"name": result["error"]["name"], "message": result["error"]["message"]}}
        return {"key": key, **self.results[key]}

    def _next_rollback(self, error: dict[str, Any]) -> None:
        if not self._saga:
            self._end_pass()
            return
        key = self._saga.pop(0)
        name, count = self._names[key]
        ctx = {"step": {"name": name, "count": count}, "attempt": 1, "config": {}}
        self.give({"type": "rollback", "key": key, "attempt": 1, "ctx": ctx, "error": error, "output": self.results[key]["value"], "timeoutMs": self.timeout_ms})
