"""
The command line, `python -m durable_machines worker SPEC...`: what a spec names, its refusals, and a real worker
process that stops gracefully on SIGTERM and SIGINT against the fake engine over HTTP.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from durable_machines.cli import load_all, load_workflows, main
from durable_machines.worker import WorkerError
from fake_engine import TOKEN, WORKFLOW, FakeEngine
from fake_engine_http import serve_http
from worker_app import Gated, Named, Plain

TESTS = Path(__file__).parent
GUARD_SECONDS = 30


def test_a_spec_names_a_dict_a_list_or_one_class_of_workflows() -> None:
    assert load_workflows("worker_app:workflows") == {"pipeline": Gated}
    assert load_workflows("worker_app:workflow_list") == {"named-by-attribute": Named, "Plain": Plain}
    assert load_workflows("worker_app:Named") == {"named-by-attribute": Named}
    # The form before the dict and list ones: module:Class[=name].
    assert load_workflows("worker_app:Gated") == {"Gated": Gated}
    assert load_workflows("worker_app:Gated=pipeline") == {"pipeline": Gated}
    # A file by its path, as `examples/python/app.py:workflows`.
    assert list(load_workflows(f"{TESTS / 'worker_app.py'}:workflows")) == ["pipeline"]
    assert load_all(["worker_app:workflows", "worker_app:Plain"]) == {"pipeline": Gated, "Plain": Plain}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Gated", "module:attribute"),
        ("no_such_module_here:Gated", "Cannot import"),
        ("no/such/file.py:workflows", "No file"),
        ("worker_app:missing", "no attribute 'missing'"),
        ("worker_app:_go", "not a WorkflowEntrypoint subclass"),
        ("worker_app:not_workflows", "must map workflow names"),
        ("worker_app:twins", "two workflows are named 'Plain'"),
        ("worker_app:workflows=pipeline", "`=name` names one class"),
    ],
)
def test_a_spec_that_names_no_workflows_is_refused_with_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(WorkerError, match=message):
        load_workflows(spec)


def test_two_specs_cannot_give_one_name_to_two_classes() -> None:
    with pytest.raises(WorkerError, match="Two workflows are named 'pipeline'"):
        load_all(["worker_app:workflows", "worker_app:Plain=pipeline"])


def test_the_command_line_refuses_a_bad_spec_and_a_missing_token(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHON_WORKER_TOKEN", raising=False)
    assert main(["worker", "--url", "http://engine.test", "--token", "t", "nothing"]) == 2
    assert "module:attribute" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["worker", "--url", "http://engine.test", "worker_app:workflows"])
    assert "PYTHON_WORKER_TOKEN" in capsys.readouterr().err


async def _start_worker(url: str, *options: str, module: str = "durable_machines") -> asyncio.subprocess.Process:
    # The token comes from PYTHON_WORKER_TOKEN, as it should in production (kept out of the process list).
    arguments = [*(["worker"] if module == "durable_machines" else []), "worker_app:workflows", "--url", url, "--worker-id", "w-cli", *options]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *arguments,
        cwd=TESTS, env={**os.environ, "PYTHON_WORKER_TOKEN": TOKEN},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def _line_with(stream: asyncio.StreamReader | None, text: str) -> str:
    """The first line of the process's output holding `text` (bounded by the guard)."""
    assert stream is not None

    async def read() -> str:
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"the worker's output ended before a line with {text!r}")
            if text in line:
                return line

    return await asyncio.wait_for(read(), GUARD_SECONDS)


async def _until(condition: Callable[[], bool]) -> None:
    """Polls `condition` until it holds (what it watches changes in another process), within the guard."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), GUARD_SECONDS)


async def _exit_code(worker: asyncio.subprocess.Process) -> int:
    try:
        return await asyncio.wait_for(worker.wait(), GUARD_SECONDS)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()


async def test_sigterm_stops_claiming_lets_the_running_pass_finish_and_exits_0() -> None:
    engine = FakeEngine()
    engine.queue("a1")
    async with serve_http(engine) as served:
        worker = await _start_worker(served.url)
        assert await _line_with(worker.stdout, "started a1")

        worker.send_signal(signal.SIGTERM)
        await _line_with(worker.stderr, "passes may run on")
        # The claim the worker was waiting on is dropped; one queued now stays with the engine.
        await _until(lambda: "claim" not in served.in_flight)
        engine.queue("a2")
        assert worker.stdin is not None
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()

        assert await _exit_code(worker) == 0
    assert engine.completed == ["a1"] and engine.outcome == ("completed", {"json": "a1"})
    assert [event["instanceId"] for event in engine.queued] == ["a2"] and engine.leases == 1
    assert engine.endpoints().count("release") == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_pass_still_running_after_the_grace_period_is_released_and_the_worker_exits_0(signum: signal.Signals) -> None:
    engine = FakeEngine()
    engine.queue("a1")
    async with serve_http(engine) as served:
        # The older form, `python -m durable_machines.worker SPEC`, still runs a worker.
        worker = await _start_worker(served.url, "--shutdown-grace", "0.2", module="durable_machines.worker" if signum == signal.SIGINT else "durable_machines")
        assert await _line_with(worker.stdout, "started a1")

        worker.send_signal(signum)
        assert await _exit_code(worker) == 0
    # Its step never finished: no result was sent, and the lease was given back rather than left to lapse.
    assert engine.calls("result") == [] and engine.completed == []
    assert engine.endpoints()[-1] == "release" and engine.lease is None


async def test_a_second_signal_stops_the_worker_at_once() -> None:
    engine = FakeEngine()
    engine.queue("a1")
    async with serve_http(engine) as served:
        worker = await _start_worker(served.url, "--shutdown-grace", str(GUARD_SECONDS * 10))
        assert await _line_with(worker.stdout, "started a1")
        worker.send_signal(signal.SIGTERM)
        await _line_with(worker.stderr, "SIGTERM: stopping")
        worker.send_signal(signal.SIGTERM)
        assert await _exit_code(worker) == 1
    assert engine.calls("result") == [] and engine.completed == []
