"""
The worker process: it connects out to the engine, claims tasks (one pass of run() of one instance each), and runs
many at once on one asyncio loop, each through `run_workflow` with an `HttpJournal` (docs/python-protocol.md).

    python -m durable_machines worker app:workflows --url http://127.0.0.1:8787 --token "$PYTHON_WORKER_TOKEN"

(durable_machines/cli.py) or from code: `await serve(url, token, {"pipeline": Pipeline})`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, cast

import httpx

from .entrypoint import WorkflowEntrypoint, WorkflowEvent, run_workflow
from .errors import error_info
from .http_journal import LONG_POLL_MARGIN_SECONDS, PROTOCOL, HttpJournal, PassOver, connect, error_of, workflow_path
from .values import JsonValue
from .wire import WireFormatError, from_epoch_ms, from_wire

DEFAULT_CONCURRENCY = 64
# The protocol's claim long poll waits at most 25 s; a little less leaves room for the answer.
CLAIM_WAIT_MS = 20_000
# A heartbeat waits for work at most this long, and never more than half the lease, so the next renews it in time.
HEARTBEAT_WAIT_MS = 20_000
# An idle pass is released only after the loop has turned this many times and this long has passed with nothing
# new: run() may be between two calls (a plain await, a thread of its own) where the journal cannot see it.
SETTLE_TURNS = 8
RELEASE_GRACE_SECONDS = 0.05
# A claim the engine could not answer (restarting, unreachable) is tried again after a pause growing to this.
MAX_CLAIM_BACKOFF_SECONDS = 5.0
# How long a stopping worker lets its passes run on before it lets go of those still running.
DEFAULT_SHUTDOWN_GRACE_SECONDS = 30.0

logger = logging.getLogger("durable_machines")


class WorkerError(Exception):
    """The engine will not give this worker tasks (a wrong token, an unknown workflow, another protocol version)."""


@dataclass(frozen=True)
class ClaimedTask:
    """One pass of one instance's run(), leased to this worker."""

    workflow: str
    instance_id: str
    lease: str
    lease_ms: float
    event: WorkflowEvent


def _payload(payload: object) -> JsonValue:
    # Values cross as superjson's {json, meta}; a payload sent as plain JSON (the contract's example) is read as it is.
    if isinstance(payload, dict) and "json" in payload and set(payload) <= {"json", "meta"}:
        return from_wire(payload, "the instance's payload")
    return cast(JsonValue, payload)


def _task(workflow: str, data: dict[str, Any]) -> ClaimedTask:
    task = data.get("task")
    if not isinstance(task, dict) or not isinstance(task.get("lease"), str) or not isinstance(task.get("instanceId"), str):
        raise WireFormatError(f"The engine answered a claim with {str(data)[:120]!r}, which holds no task.")
    given = task.get("event")
    event: dict[str, Any] = given if isinstance(given, dict) else {}
    timestamp = event.get("timestamp")
    return ClaimedTask(
        workflow=str(task.get("workflow", workflow)),
        instance_id=task["instanceId"],
        lease=task["lease"],
        lease_ms=float(task.get("leaseMs", 30_000)),
        event=WorkflowEvent(
            payload=_payload(event.get("payload", {})),
            timestamp=from_epoch_ms(timestamp if isinstance(timestamp, (int, float)) else 0),
            instance_id=str(event.get("instanceId", task["instanceId"])),
            workflow_name=str(event.get("workflowName", workflow)),
        ),
    )


async def claim(client: httpx.AsyncClient, workflow: str, worker: str, wait_ms: float = CLAIM_WAIT_MS) -> ClaimedTask | None:
    """A task of `workflow`, or None when none came within `wait_ms`. WorkerError when the engine refuses for good."""
    response = await client.post(
        f"{workflow_path(workflow)}/claim", json={"protocol": PROTOCOL, "worker": worker, "waitMs": wait_ms}, timeout=wait_ms / 1000 + LONG_POLL_MARGIN_SECONDS
    )
    if response.status_code == 204:
        return None
    # A workflow the engine does not serve from Python (409 workflow.not_python) is refused for good, as a missing one is.
    if response.status_code in (400, 401, 403, 404) or (response.status_code == 409 and error_of(response)[0] == "workflow.not_python"):
        raise WorkerError(f"The engine refused to give tasks of {workflow!r} to this worker: {response.status_code} {response.text[:300]}")
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict) or data.get("protocol") != PROTOCOL:
        raise WorkerError(f"The engine speaks protocol {data.get('protocol') if isinstance(data, dict) else None!r}; this worker speaks {PROTOCOL}: upgrade one to match.")
    return _task(workflow, data)


async def _heartbeats(journal: HttpJournal) -> None:
    """Keeps the lease and brings work: long polls one after another; the pass ends if the engine stays out of reach for a lease."""
    loop = asyncio.get_running_loop()
    reached = loop.time()
    backoff = 0.05
    while not journal.ended.is_set():
        try:
            await journal.heartbeat(min(HEARTBEAT_WAIT_MS, journal.lease_ms / 2))
            reached, backoff = loop.time(), 0.05
        except PassOver:
            return
        except httpx.HTTPError as error:
            if loop.time() - reached > journal.lease_ms / 1000:
                journal.end(f"the engine was out of reach for longer than the lease ({journal.lease_ms:g} ms): {error}")
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)


async def _settled(journal: HttpJournal, grace: float) -> bool:
    version = journal.version
    for _ in range(SETTLE_TURNS):
        await asyncio.sleep(0)
    if grace > 0:
        await asyncio.sleep(grace)
    return journal.idle() and journal.version == version


async def run_pass(client: httpx.AsyncClient, task: ClaimedTask, workflow_class: type[WorkflowEntrypoint], *, env: Any = None,
                   release_grace: float = RELEASE_GRACE_SECONDS, let_go: asyncio.Event | None = None) -> str:
    """
    One pass of run() for a claimed task, until the engine ends it, the lease is lost, or nothing is left to do in it
    (run() waits only on pending calls, or has ended, and no body runs: the pass is released). Once `let_go` is set
    (the worker is stopping), the pass stops its bodies and releases its lease at once, so that the engine gives the
    instance to another worker now rather than when the lease lapses. Returns why it ended.
    """
    journal = HttpJournal(client, task.workflow, task.instance_id, task.lease, lease_ms=task.lease_ms)

    async def run() -> None:
        try:
            workflow = workflow_class(None, env)
        except Exception as error:
            # As in TypeScript: a constructor that throws fails the run like run() throwing.
            await journal.run_failed(error_info(error))
            return
        await run_workflow(workflow, task.event, journal)

    running = asyncio.create_task(run())
    running.add_done_callback(lambda _: journal.changed.set())
    beating = asyncio.create_task(_heartbeats(journal))
    letting_go = asyncio.create_task(let_go.wait()) if let_go is not None else None
    if letting_go is not None:
        letting_go.add_done_callback(lambda _: journal.changed.set())
    try:
        while not journal.ended.is_set():
            journal.changed.clear()
            if letting_go is not None and letting_go.done():
                # Attempts cut off here are lost with the pass, as in a crash: the engine starts them again.
                await journal.stop_work()
                await journal.release()
                break
            if running.done() and not journal.run_finished:
                error = None if running.cancelled() else running.exception()
                if error is not None:
                    logger.error("durable_machines: run() of %s failed inside the worker", task.instance_id, exc_info=error)
                journal.end(f"run() stopped without reporting its end: {error!r}")
                break
            if journal.idle() and await _settled(journal, release_grace):
                if await journal.release():
                    break
            if not journal.changed.is_set():
                await journal.changed.wait()
    finally:
        waiters = [running, beating, *([letting_go] if letting_go is not None else [])]
        for waiter in waiters:
            waiter.cancel()
        await journal.stop_work()
        await asyncio.gather(*waiters, return_exceptions=True)
    return journal.end_reason


async def serve(base_url: str, token: str, workflows: dict[str, type[WorkflowEntrypoint]], *, worker_id: str | None = None,
                concurrency: int = DEFAULT_CONCURRENCY, env: Any = None, claim_wait_ms: float = CLAIM_WAIT_MS,
                release_grace: float = RELEASE_GRACE_SECONDS, transport: httpx.AsyncBaseTransport | None = None,
                stop: asyncio.Event | None = None, shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE_SECONDS) -> None:
    """
    Claims tasks of each workflow (by the name the engine registered it under) and runs up to `concurrency` passes at
    once, until `stop` is set or it is cancelled; raises WorkerError if the engine refuses this worker.

    Once `stop` is set it stops claiming, lets the passes under way run on for up to `shutdown_grace` seconds (a step
    body finishing, its result recorded), then stops those still running and releases their leases, and returns. A
    claim in flight is dropped: should the engine have leased it a task meanwhile, that lease lapses and the engine
    gives the instance to another worker. Cancelled, it cancels every pass at once (their leases lapse in the same
    way). `transport`: httpx's, for tests and proxies.
    """
    if not workflows:
        raise ValueError("serve() needs at least one workflow: {name: WorkflowEntrypoint subclass}")
    for name, workflow_class in workflows.items():
        if not (isinstance(workflow_class, type) and issubclass(workflow_class, WorkflowEntrypoint)):
            raise TypeError(f"Workflow {name!r} must be a WorkflowEntrypoint subclass, got {workflow_class!r}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    worker = worker_id or f"{socket.gethostname()}/pid-{os.getpid()}"
    slots = asyncio.Semaphore(concurrency)
    let_go = asyncio.Event()
    passes: set[asyncio.Task[str]] = set()

    def finished(running: asyncio.Task[str]) -> None:
        passes.discard(running)
        slots.release()
        if not running.cancelled() and running.exception() is not None:
            logger.error("durable_machines: a pass failed inside the worker", exc_info=running.exception())

    async def claims(name: str, workflow_class: type[WorkflowEntrypoint], client: httpx.AsyncClient) -> None:
        backoff = 0.1
        while True:
            await slots.acquire()
            try:
                task = await claim(client, name, worker, claim_wait_ms)
            except (httpx.HTTPError, WireFormatError, ValueError) as error:
                slots.release()
                logger.warning("durable_machines: claiming %r failed (%s); trying again in %.1f s", name, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_CLAIM_BACKOFF_SECONDS)
                continue
            except BaseException:
                slots.release()
                raise
            backoff = 0.1
            if task is None:
                slots.release()
                continue
            running = asyncio.create_task(own_connection(task, workflow_class))
            passes.add(running)
            running.add_done_callback(finished)

    # Each pass has a client of its own: one pool shared by every pass scans all its connections (each pass holds a long
    # poll) for every request, which made the worker its own bottleneck at a hundred passes. They share one SSL context.
    # A transport given by the caller is shared instead, since a client closes its transport when it closes.
    verify = httpx.create_ssl_context()

    async def own_connection(task: ClaimedTask, workflow_class: type[WorkflowEntrypoint]) -> str:
        if transport is not None:
            return await run_pass(client, task, workflow_class, env=env, release_grace=release_grace, let_go=let_go)
        async with connect(base_url, token, verify=verify) as own:
            return await run_pass(own, task, workflow_class, env=env, release_grace=release_grace, let_go=let_go)

    async with connect(base_url, token, transport=transport, verify=verify) as client:
        claimers = [asyncio.create_task(claims(name, workflow_class, client)) for name, workflow_class in workflows.items()]
        stopping = asyncio.create_task((stop or asyncio.Event()).wait())
        try:
            done, _ = await asyncio.wait([*claimers, stopping], return_when=asyncio.FIRST_COMPLETED)
            for ended in done - {stopping}:
                await ended  # a claimer ends only by raising (WorkerError): its error ends serve()
            for claimer in claimers:
                claimer.cancel()
            await asyncio.gather(*claimers, return_exceptions=True)
            if passes:
                logger.info("durable_machines: stopping; %d passes may run on for up to %g s", len(passes), shutdown_grace)
                await asyncio.wait(set(passes), timeout=shutdown_grace)
            let_go.set()
            if passes:
                logger.info("durable_machines: letting go of %d passes still running", len(passes))
                await asyncio.wait(set(passes))
        finally:
            stopping.cancel()
            pending = [*claimers, *passes]
            for running in pending:
                running.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


if __name__ == "__main__":
    # `python -m durable_machines.worker SPEC...`, the form before the `worker` subcommand, still works.
    import sys

    from durable_machines.cli import main

    sys.exit(main(["worker", *sys.argv[1:]]))
