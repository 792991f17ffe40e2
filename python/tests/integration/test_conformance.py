"""
Conformance: the same workflow as a TypeScript code-first class (test/python-engine/conformance.ts, run in the
engine) and in Python (conformance.py, run by a worker process) leaves the same log record types and step keys and
gives the same subscribe() events: a sequence, a retried step, a gather, a sleep, an event wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from durable_machines import Client
from durable_machines.client import Instance
from engine_server import Engine
from harness import WorkerProcess, finished, history

PARAMS = {"items": ["a", "b", "c"]}
OUTPUT = {"recovered": "recovered on attempt 2", "packed": ["box:A", "box:B", "box:C"], "shipped": "3 boxes approved by ada"}


@pytest.fixture(scope="module")
def twin_worker(suite_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    process = WorkerProcess("twins", suite_engine.url, suite_engine.worker_token, tmp_path_factory.mktemp("twins"), serves="twins")
    yield process
    process.kill()


async def run_twin(api: Client, workflow: str, id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """
    Runs one instance to its end: its log and its subscribe() events. The approval is sent at once, before run()
    waits for it: the engine holds it for the wait, the same way for both forms.
    """
    instance: Instance = await api.workflow(workflow).create(id, PARAMS)
    await instance.send_event("approve", {"by": "ada"})
    status = await finished(instance)
    assert status["status"] == "complete" and status["output"] == OUTPUT, status
    return await history(instance), [dict(event) async for event in instance.subscribe(cursor=0)]


def packing(name: object) -> bool:
    """The gather's steps, which may finish in any order: compared as sets, the rest in order."""
    return isinstance(name, str) and (name.startswith("pack ") or name.startswith("do:pack "))


def records(log: list[dict[str, Any]]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    # The approval comes from outside, when the test sends it: where it falls among run()'s records is the test's timing.
    shown = [(record["type"], (record.get("data") or {}).get("key")) for record in log if record["type"] != "event.received"]
    return [item for item in shown if not packing(item[1])], sorted((item for item in shown if packing(item[1])), key=repr)


def events(stream: list[dict[str, Any]]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Each event without what differs by nature (ids, times, the error's class name): type, step, attempt, output, message."""
    shown = [(e["type"], e.get("stepName"), e.get("attempt"), repr(e.get("output")), (e.get("error") or {}).get("message"), e.get("eventType")) for e in stream]
    return [item for item in shown if not packing(item[1])], sorted((item for item in shown if packing(item[1])), key=repr)


async def test_typescript_and_python_twins_leave_the_same_log_and_events(api: Client, twin_worker: WorkerProcess) -> None:
    ts_log, ts_events = await run_twin(api, "twin-ts", "twin-1")
    py_log, py_events = await run_twin(api, "twin-py", "twin-1")

    assert records(py_log) == records(ts_log)
    assert [r["type"] for r in py_log].count("event.received") == [r["type"] for r in ts_log].count("event.received") == 1
    assert events(py_events) == events(ts_events)
    keys = [record["data"]["key"] for record in py_log if record["type"] == "step.started"]
    assert keys == ["do:prepare-1", "do:flaky-1", "do:flaky-1", "do:pack A-1", "do:pack B-1", "do:pack C-1", "do:ship-1"]
    # What the comparison covers: the retry, the sleep and the wait are in both.
    assert {"step.attempt_failed", "timer.started", "timer.fired", "wait.started", "event.received"} <= {record["type"] for record in py_log}
