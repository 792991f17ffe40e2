"""
What the integration tests share: Python worker processes (`python -m durable_machines worker`, the command a user
runs), the ledger the counted workflow's bodies write outside both processes, the checks of the log against it, and
waiting on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from durable_machines.client import Instance
from engine_server import WATCHDOG

ROOT = Path(__file__).resolve().parents[3]
# Every Python workflow the suite's Worker (test/python-engine/worker.ts) registers.
REGISTERED = ROOT / "test" / "python-engine" / "registered.py"
DEADLINE_SECONDS = 60.0
POLL_SECONDS = 0.05

T = TypeVar("T")


async def until(what: str, probe: Callable[[], Awaitable[T | None]], deadline: float = DEADLINE_SECONDS) -> T:
    """Polls `probe` until it answers something (not None), or fails naming `what` after `deadline` seconds."""
    ends = time.monotonic() + deadline
    while True:
        answer = await probe()
        if answer is not None:
            return answer
        if time.monotonic() > ends:
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


async def finished(instance: Instance, deadline: float = DEADLINE_SECONDS) -> dict[str, Any]:
    """The instance's status once it is complete, errored or terminated."""

    async def probe() -> dict[str, Any] | None:
        status = dict(await instance.status())
        return status if status["status"] in ("complete", "errored", "terminated") else None

    return await until(f"{instance!r} to finish", probe, deadline)


async def history(instance: Instance) -> list[dict[str, Any]]:
    return [dict(record) async for record in instance.history()]


class WorkerProcess:
    """
    `python -m durable_machines worker test/python-engine/registered.py:<serves>`, as its own process group led by
    the engine's watchdog shell (the group goes when the test process does). `kill()` is kill -9 of the group.
    """

    def __init__(self, name: str, url: str, token: str, log_dir: Path, *, serves: str = "workflows", options: tuple[str, ...] = (), **env: str) -> None:
        self.name = name
        self.log = log_dir / f"worker-{name}.log"
        command = [sys.executable, "-m", "durable_machines", "worker", f"{REGISTERED}:{serves}", "--url", url, "--token", token, "--worker-id", name, *options]
        with self.log.open("w") as out:
            self._process = subprocess.Popen(
                ["sh", "-c", WATCHDOG, "worker-watchdog", str(os.getpid()), *command],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "DM_WORKER": name, **env}, start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # Already gone.
        self._process.wait(timeout=30)

    def alive(self) -> bool:
        return self._process.poll() is None


@dataclass(frozen=True)
class Row:
    """One line of the ledger: a body began or returned, for which instance, key and attempt, in which worker."""

    instance: str
    key: str
    attempt: int
    what: str
    worker: str


def ledger(path: Path) -> list[Row]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        instance, key, attempt, what, worker = line.split(" ")
        rows.append(Row(instance, key, int(attempt), what, worker))
    return rows


def step_violations(log: list[dict[str, Any]]) -> list[str]:
    """
    No recorded step runs again (test/chaos/checks.ts checkSteps): once a key's result is recorded no `step.started`
    for it follows; each start of a key has a higher attempt than the last; a result belongs to the attempt started last.
    """
    violations: list[str] = []
    results: dict[str, dict[str, Any]] = {}
    latest: dict[str, int] = {}
    for record in log:
        kind, data = record["type"], record.get("data") or {}
        if kind == "instance.restarted":
            results, latest = {}, {}
        elif kind == "step.started":
            key, attempt = data["key"], data["attempt"]
            if key in results:
                violations.append(f"step {key} started again (attempt {attempt}) after its result was recorded")
            if latest.get(key, 0) >= attempt:
                violations.append(f"step {key} started attempt {attempt} after attempt {latest[key]}")
            latest[key] = attempt
        elif kind in ("step.succeeded", "step.failed", "step.attempt_failed"):
            key, attempt = data["key"], data["attempt"]
            if latest.get(key) != attempt:
                violations.append(f"step {key} recorded {kind} for attempt {attempt}; the attempt started last is {latest.get(key)}")
            if kind != "step.attempt_failed":
                if key in results:
                    violations.append(f"step {key} has two results")
                results[key] = record
    return violations


def ledger_violations(instance: str, log: list[dict[str, Any]], rows: list[Row]) -> list[str]:
    """
    The bodies against the log (test/chaos/checks.ts checkLedger): a body runs only for an attempt the log started,
    each attempt's body returns at most once, and every success the log records is of an attempt whose body returned.
    With step_violations (no attempt starts after a result), no recorded step's body ran again.
    """
    started = {(r["data"]["key"], r["data"]["attempt"]) for r in log if r["type"] == "step.started"}
    succeeded = {(r["data"]["key"], r["data"]["attempt"]) for r in log if r["type"] == "step.succeeded"}
    mine = [row for row in rows if row.instance == instance]
    violations = [f"the body of {row.key}@{row.attempt} {row.what} in {row.worker}, an attempt the log never started" for row in mine if (row.key, row.attempt) not in started]
    returned: dict[tuple[str, int], list[str]] = {}
    for row in mine:
        if row.what == "returned":
            returned.setdefault((row.key, row.attempt), []).append(row.worker)
    violations += [f"the body of {key}@{attempt} returned {len(workers)} times ({', '.join(workers)})" for (key, attempt), workers in returned.items() if len(workers) > 1]
    violations += [f"the log records {key}@{attempt} succeeded, but its body never returned" for key, attempt in succeeded if (key, attempt) not in returned]
    return violations
