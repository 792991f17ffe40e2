"""
Real worker processes against the real engine, counted outside both: the counted workflow's bodies append
`<instance> <key> <attempt> began|returned <worker>` to a ledger file (fsynced) that the test reads, and its checks
hold the log against it (harness.step_violations, harness.ledger_violations): a body runs only for an attempt the log
started, no attempt starts after its step's result is recorded, each attempt's body returns at most once, and every
recorded success is of a body that returned. So no recorded step ran twice; and each instance completing with the
right total shows nothing was lost.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import API_TOKEN, SUITE_WORKER, WORKER_TOKEN
from durable_machines import Client
from durable_machines.client import Instance
from engine_server import EngineProcess
from harness import Row, WorkerProcess, finished, history, ledger, ledger_violations, step_violations, until
from proxy import WorkerProxy

STEPS = 4


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create(api: Client, prefix: str, count: int) -> list[Instance]:
    return [await api.workflow("py-counted").create(fresh(prefix), {"steps": STEPS}) for _ in range(count)]


async def rows_where(path: Path, what: str, matches: Any) -> list[Row]:
    """Once the ledger has the rows `matches(rows)` asks for: all its rows."""

    async def probe() -> list[Row] | None:
        rows = ledger(path)
        return rows if matches(rows) else None

    return await until(what, probe)


def began(rows: list[Row], instance: Instance, key: str) -> bool:
    return any(row.instance == instance.id and row.key == key and row.what == "began" for row in rows)


async def assert_nothing_lost_and_nothing_run_twice(instances: list[Instance], path: Path, *workers: WorkerProcess) -> list[Row]:
    for instance in instances:
        status = await finished(instance)
        assert status["status"] == "complete", (status, *(worker.output()[-3000:] for worker in workers))
        assert status["output"] == {"total": sum(n * n for n in range(STEPS))}
    rows = ledger(path)
    for instance in instances:
        log = await history(instance)
        assert step_violations(log) == [], log
        assert ledger_violations(instance.id, log, rows) == [], (log, rows)
        succeeded = sorted(r["data"]["key"] for r in log if r["type"] == "step.succeeded")
        assert succeeded == [f"do:s{n}-1" for n in range(STEPS)]
    return rows


async def attempts_started(instance: Instance, key: str) -> list[int]:
    return [r["data"]["attempt"] for r in await history(instance) if r["type"] == "step.started" and r["data"]["key"] == key]


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger"


async def test_a_worker_killed_mid_step_loses_nothing_and_no_recorded_step_runs_again(api: Client, suite_engine: Any, tmp_path: Path, ledger_path: Path) -> None:
    url, token = suite_engine.url, suite_engine.worker_token
    doomed = WorkerProcess("doomed", url, token, tmp_path, serves="counted", DM_LEDGER=str(ledger_path), DM_HOLD="s2")
    survivor: WorkerProcess | None = None
    try:
        instances = await create(api, "kill-worker", 2)
        await rows_where(ledger_path, "both instances' s2 under way in the doomed worker", lambda rows: all(began(rows, i, "do:s2-1") for i in instances))
        doomed.kill()
        survivor = WorkerProcess("survivor", url, token, tmp_path, serves="counted", DM_LEDGER=str(ledger_path))
        rows = await assert_nothing_lost_and_nothing_run_twice(instances, ledger_path, survivor)
    finally:
        doomed.kill()
        if survivor is not None:
            survivor.kill()
    for instance in instances:
        mine = [(row.key, row.what, row.worker) for row in rows if row.instance == instance.id]
        # Steps recorded before the kill never ran again; the one cut off ran again in the survivor.
        assert [(key, what) for key, what, worker in mine if worker == "survivor" and what == "began"] == [("do:s2-1", "began"), ("do:s3-1", "began")]
        assert [key for key, what, worker in mine if what == "returned" and worker == "doomed"] == ["do:s0-1", "do:s1-1"]
        assert await attempts_started(instance, "do:s2-1") == [1, 2]  # the attempt cut off, and its run again


async def test_a_step_longer_than_several_leases_keeps_its_lease_and_runs_once(api: Client, suite_engine: Any, tmp_path: Path, ledger_path: Path) -> None:
    # py-counted's lease is 3 s: a body held for three leases is kept alive by the worker's heartbeats alone.
    gate = tmp_path / "gate"
    worker = WorkerProcess("patient", suite_engine.url, suite_engine.worker_token, tmp_path, serves="counted", DM_LEDGER=str(ledger_path), DM_HOLD="s1", DM_GATE=str(gate))
    try:
        [instance] = await create(api, "long-step", 1)
        await rows_where(ledger_path, "s1 under way", lambda rows: began(rows, instance, "do:s1-1"))
        held_since = asyncio.get_running_loop().time()

        async def three_leases_passed() -> bool | None:
            # The condition is the time itself: the body must outlive three leases while nothing else talks to the engine.
            return True if asyncio.get_running_loop().time() - held_since > 9.0 else None

        await until("three leases to pass", three_leases_passed, deadline=30.0)
        gate.touch()
        rows = await assert_nothing_lost_and_nothing_run_twice([instance], ledger_path, worker)
    finally:
        worker.kill()
    assert await attempts_started(instance, "do:s1-1") == [1]
    assert [row.attempt for row in rows if row.key == "do:s1-1" and row.what == "began"] == [1]


async def test_two_workers_share_the_load(api: Client, suite_engine: Any, tmp_path: Path, ledger_path: Path) -> None:
    url, token = suite_engine.url, suite_engine.worker_token
    # Two passes at a time each: while one worker is full, the other's claim takes the next instance.
    workers = [WorkerProcess(name, url, token, tmp_path, serves="counted", options=("--concurrency", "2"), DM_LEDGER=str(ledger_path)) for name in ("left", "right")]
    try:
        await until("both workers serving", _all_serving(workers))
        instances = await create(api, "share", 8)
        rows = await assert_nothing_lost_and_nothing_run_twice(instances, ledger_path, *workers)
    finally:
        for worker in workers:
            worker.kill()
    by_worker = {name: len({row.instance for row in rows if row.worker == name}) for name in ("left", "right")}
    assert by_worker["left"] > 0 and by_worker["right"] > 0, by_worker


def _all_serving(workers: list[WorkerProcess]) -> Any:
    async def probe() -> bool | None:
        return True if all("serving" in worker.output() for worker in workers) else None

    return probe


async def test_a_stale_worker_is_fenced_and_its_late_result_is_not_recorded(api: Client, suite_engine: Any, tmp_path: Path, ledger_path: Path) -> None:
    url, token = suite_engine.url, suite_engine.worker_token
    gate = tmp_path / "gate"
    proxy = WorkerProxy(url)
    # One pass at a time: while its pass is held, the stale worker has no claim out that could take the instance back.
    stale = WorkerProcess("stale", proxy.url, token, tmp_path, serves="counted", options=("--concurrency", "1"), DM_LEDGER=str(ledger_path), DM_HOLD="s1", DM_GATE=str(gate))
    fresh_worker: WorkerProcess | None = None
    try:
        [instance] = await create(api, "stale", 1)
        await rows_where(ledger_path, "s1 under way in the stale worker", lambda rows: began(rows, instance, "do:s1-1"))
        # The stale worker goes quiet to the engine (a partition, a long pause): its lease lapses; another takes over.
        proxy.partition()
        fresh_worker = WorkerProcess("fresh", url, token, tmp_path, serves="counted", DM_LEDGER=str(ledger_path))
        await assert_nothing_lost_and_nothing_run_twice([instance], ledger_path, fresh_worker)
        log = await history(instance)

        # Now its body ends and it reports the result of the attempt it was given, under the lease it had.
        gate.touch()

        def late_result() -> Any:
            return next((held for held in proxy.held if b'"type":"result"' in held.body.replace(b" ", b"") and b"do:s1-1" in held.body), None)

        async def sent() -> Any:
            return late_result()

        await until("the stale worker's late result", sent)
        proxy.heal()
        refused = late_result()
        assert refused.status == 409 and json.loads(refused.answer)["error"]["code"] == "lease.lost", (refused.status, refused.answer)
        assert json.loads(refused.body)["calls"][0] == {"type": "result", "key": "do:s1-1", "attempt": 1, "ok": True, "value": {"json": 1}}
        assert await history(instance) == log  # nothing recorded
        rows = ledger(ledger_path)
        assert ("do:s1-1", 1, "returned", "stale") in [(row.key, row.attempt, row.what, row.worker) for row in rows]
        assert [(r["data"]["key"], r["data"]["attempt"]) for r in log if r["type"] == "step.succeeded" and r["data"]["key"] == "do:s1-1"] == [("do:s1-1", 2)]
    finally:
        stale.kill()
        if fresh_worker is not None:
            fresh_worker.kill()
        proxy.close()


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[EngineProcess]:
    engine = EngineProcess(SUITE_WORKER, tmp_path / "engine", api_token=API_TOKEN, worker_token=WORKER_TOKEN)
    engine.start()
    yield engine
    engine.kill()


async def test_workerd_killed_mid_run_loses_nothing_and_no_recorded_step_runs_again(restartable: EngineProcess, tmp_path: Path, ledger_path: Path) -> None:
    gate = tmp_path / "gate"
    # The worker reaches the engine through a proxy that follows it to the port it comes back on.
    proxy = WorkerProxy(restartable.url)
    worker = WorkerProcess("worker", proxy.url, WORKER_TOKEN, tmp_path, serves="counted", DM_LEDGER=str(ledger_path), DM_HOLD="s2", DM_GATE=str(gate))
    try:
        async with Client(restartable.url, API_TOKEN) as api:
            instances = await create(api, "kill-workerd", 2)
            await rows_where(ledger_path, "both instances' s2 under way", lambda rows: all(began(rows, i, "do:s2-1") for i in instances))
        restartable.kill()
        restartable.start()
        proxy.upstream = restartable.url
        gate.touch()
        async with Client(restartable.url, API_TOKEN) as api:
            instances = [await api.workflow("py-counted").get(instance.id) for instance in instances]
            rows = await assert_nothing_lost_and_nothing_run_twice(instances, ledger_path, worker)
            for instance in instances:
                assert await attempts_started(instance, "do:s2-1") == [1, 2]  # in flight at the kill, run again after
    finally:
        worker.kill()
        proxy.close()
    for instance in instances:
        recorded_before = [row.key for row in rows if row.instance == instance.id and row.what == "returned" and row.key in ("do:s0-1", "do:s1-1")]
        assert recorded_before == ["do:s0-1", "do:s1-1"]
