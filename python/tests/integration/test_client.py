"""
durable_machines.client against the real engine in workerd (the `engine` fixture: the example Worker `npm start`
serves). The examples used: data-pipeline with one partition (no simulated failure: it completes at once), and the
grocery agent, whose order step fails twice with 10 s and 20 s between attempts, so it stays in `ordering` long enough
to be sent events, paused, resumed, terminated and restarted.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from durable_machines import ApiError, BatchError, Client
from durable_machines.client import Instance, InstanceEvent
from engine_server import Engine

PIPELINE = {"source": "orders", "partitions": 1}
# The grocery agent's week (machines/grocery-agent.scenario.ts): the order is retried for about 30 s.
WEEK = {"meals": ["pasta", "tacos", "Salad", "haggis"], "budget": 50}
PIPELINE_OUTPUT = {
    "source": "orders",
    "summary": {"partitions": 1, "records": 3, "duplicatesDropped": 1, "checksum": 1114901895, "objects": ["warehouse/orders/part-0.jsonl"]},
    "manifest": "warehouse/orders/_manifest.json",
}


def fresh(prefix: str) -> str:
    """An id no other test of the session uses (the engine is shared)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[Client]:
    async with Client(engine.url, engine.api_token) as opened:
        yield opened


async def events_of(instance: Instance, **options: Any) -> list[InstanceEvent]:
    return [event async for event in instance.subscribe(**options)]


async def first_event(instance: Instance, **options: Any) -> InstanceEvent:
    """The first event the subscription yields, the stream closed after it."""
    async with aclosing(instance.subscribe(**options)) as events:
        async for event in events:
            return event
    raise AssertionError(f"the stream of {instance.id} ended with no event")


async def test_an_instance_is_created_read_and_followed_to_its_completion(client: Client) -> None:
    pipeline = client.workflow("data-pipeline")
    instance = await pipeline.create(fresh("p"), PIPELINE)

    events = await events_of(instance)
    assert events[-1]["type"] == "workflow_completed" and events[-1].get("output") == PIPELINE_OUTPUT
    assert [event["eventId"] for event in events] == list(range(1, len(events) + 1))
    assert {"workflow_started", "step_started", "step_completed"} <= {event["type"] for event in events}
    status = await instance.status()
    assert status == {"id": instance.id, "status": "complete", "value": status["value"], "output": PIPELINE_OUTPUT}
    assert (await pipeline.get(instance.id)).id == instance.id

    # history() pages through the log: two records a page gives what one page does.
    whole = [record async for record in instance.history()]
    assert [record async for record in instance.history(page_size=2)] == whole
    assert whole[0]["type"] == "instance.created" and whole[0]["data"]["params"] == PIPELINE
    assert [record["seq"] for record in whole] == list(range(1, len(whole) + 1))
    assert [record async for record in instance.history(after=whole[-2]["seq"])] == whole[-1:]
    assert [step["key"] async for step in instance.steps(page_size=1)] == ["ingest#1", "transform.slot0#1", "join#1", "publish#1"]

    # A subscription from a cursor gets what follows it; a filter keeps only its types; a finished one ends at once.
    assert await events_of(instance, cursor=events[-3]["eventId"]) == events[-2:]
    assert [event["type"] for event in await events_of(instance, filter=["workflow_completed"])] == ["workflow_completed"]
    assert await events_of(instance, cursor=events[-1]["eventId"]) == []


async def test_an_event_is_sent_and_the_lifecycle_calls_move_the_instance(client: Client) -> None:
    instance = await client.workflow("grocery-agent").create(fresh("g"), WEEK)
    # The first checkout attempt fails; the retry waits 10 s on the object's alarm.
    await first_event(instance, filter=["attempt_errored"])

    accepted = await instance.send_event("delivered", {"receivedBy": "front desk"})
    assert accepted["id"] == instance.id and accepted["status"] == "waiting"
    received = [record async for record in instance.history() if record["type"] == "event.received"]
    assert [record["data"] for record in received] == [{"type": "delivered", "payload": {"receivedBy": "front desk"}}]

    assert (await instance.pause())["status"] == "paused"
    assert (await instance.status())["status"] == "paused"
    assert (await instance.resume())["status"] in ("running", "waiting")
    with pytest.raises(ApiError) as refused:
        await instance.resume()
    assert (refused.value.code, refused.value.status) == ("instance.cannot_resume", 409)

    assert (await instance.terminate(rollback=True))["status"] == "terminated"
    events = await events_of(instance)
    assert events[-1]["type"] == "workflow_terminated"
    with pytest.raises(ApiError) as finished:
        await instance.send_event("delivered")
    assert (finished.value.code, finished.value.status) == ("instance.finished", 409)

    # A restart runs it again from the start, with a new run of steps.
    assert (await instance.restart())["status"] in ("running", "waiting")
    assert (await first_event(instance, cursor=events[-1]["eventId"], filter=["step_started"])).get("stepName") == "compile#2"
    assert (await instance.terminate())["status"] == "terminated"


async def test_a_restart_from_a_step_keeps_the_steps_before_it(client: Client) -> None:
    instance = await client.workflow("data-pipeline").create(fresh("r"), PIPELINE)
    done = await events_of(instance)

    await instance.restart(from_step="join#1")
    again = await events_of(instance, cursor=done[-1]["eventId"])
    assert [event.get("stepName") for event in again if event["type"] == "step_started"] == ["join#2", "publish#2"]
    assert again[-1]["type"] == "workflow_completed" and again[-1].get("output") == PIPELINE_OUTPUT
    assert [step["key"] async for step in instance.steps()] == ["ingest#1", "transform.slot0#1", "join#2", "publish#2"]

    with pytest.raises(ApiError) as refused:
        await instance.restart(from_step={"name": "no-such-step"})
    assert refused.value.code == "instance.cannot_restart"


async def test_a_batch_is_created_and_its_refusals_name_their_entries(client: Client) -> None:
    pipeline = client.workflow("data-pipeline")
    ids = [fresh("b"), fresh("b")]
    created = await pipeline.create_batch([{"id": ids[0], "params": PIPELINE}, {"id": ids[1], "params": PIPELINE}])
    assert [instance.id for instance in created] == ids
    for instance in created:
        assert (await events_of(instance))[-1]["type"] == "workflow_completed"

    another = fresh("b")
    with pytest.raises(BatchError) as partly:
        await pipeline.create_batch([{"id": ids[0], "params": PIPELINE}, {"id": another, "params": PIPELINE}])
    assert (partly.value.code, partly.value.status) == ("instance.already_exists", 207)
    assert [instance.id for instance in partly.value.created] == [another]
    assert [(error["index"], error["code"]) for error in partly.value.errors] == [(0, "instance.already_exists")]

    # Listing pages through the instances newest first (the oldest first when asked); counts include them.
    listed = [(summary["createdAt"], summary["id"]) async for summary in pipeline.instances(status="complete", page_size=1)]
    assert set(ids) <= {id for _, id in listed} and listed == sorted(listed, reverse=True)
    oldest = [(summary["createdAt"], summary["id"]) async for summary in pipeline.instances(status="complete", order="oldest", page_size=1)]
    assert oldest == sorted(oldest)
    assert (await pipeline.counts())["complete"] >= 2
    assert "data-pipeline" in await client.workflows()
    assert (await pipeline.delete_batch([ids[1]])) == {"deleted": [{"id": ids[1]}], "errors": []}


async def test_refusals_raise_api_error_with_code_and_status(client: Client, engine: Engine) -> None:
    with pytest.raises(ApiError) as missing:
        await client.workflow("data-pipeline").get(fresh("missing"))
    assert (missing.value.code, missing.value.status) == ("instance.not_found", 404)
    assert "instance.not_found" in str(missing.value) and missing.value.message

    with pytest.raises(ApiError) as unknown:
        await client.workflow("no-such-workflow").create(params={})
    assert (unknown.value.code, unknown.value.status) == ("workflow.not_found", 404)

    with pytest.raises(ApiError) as taken:
        instance = await client.workflow("data-pipeline").create(fresh("t"), PIPELINE)
        await client.workflow("data-pipeline").create(instance.id, PIPELINE)
    assert (taken.value.code, taken.value.status) == ("instance.already_exists", 409)

    async with Client(engine.url, "not-the-token") as stranger:
        with pytest.raises(ApiError) as refused:
            await stranger.workflows()
        assert (refused.value.code, refused.value.status) == ("auth.invalid", 401)
        with pytest.raises(ApiError) as streamed:
            await events_of(Instance(stranger, "data-pipeline", "any"))
        assert streamed.value.code == "auth.invalid"
    # The worker's token is not the API's.
    async with Client(engine.url, engine.worker_token) as worker:
        with pytest.raises(ApiError, match="auth.invalid"):
            await worker.workflow("data-pipeline").create(params=PIPELINE)


class CutStream(httpx.AsyncBaseTransport):
    """The engine behind a connection that drops the first event stream after `keep` events, as a flaky proxy would."""

    def __init__(self, keep: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._keep = keep
        self.resumed_after: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/events") or request.method != "GET":
            return response
        self.resumed_after.append(request.headers.get("last-event-id"))
        if len(self.resumed_after) > 1:
            return response
        return httpx.Response(response.status_code, headers=response.headers, stream=_cut(response, self._keep), request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _cut(httpx.AsyncByteStream):
    def __init__(self, response: httpx.Response, keep: int) -> None:
        self._response, self._keep = response, keep

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = b""
        async for chunk in self._response.aiter_raw():
            sent += chunk
            if sent.count(b"\n\n") >= self._keep:
                yield sent[: _end_of_event(sent, self._keep)]
                raise httpx.ReadError("connection reset (simulated)")
        yield sent

    async def aclose(self) -> None:
        await self._response.aclose()


def _end_of_event(data: bytes, count: int) -> int:
    end = -2
    for _ in range(count):
        end = data.index(b"\n\n", end + 2)
    return end + 2


async def test_a_dropped_event_stream_is_opened_again_after_its_last_event(engine: Engine) -> None:
    transport = CutStream(keep=3)
    async with Client(engine.url, engine.api_token, transport=transport) as client:
        instance = await client.workflow("data-pipeline").create(fresh("s"), PIPELINE)
        events = await events_of(instance)
    assert transport.resumed_after == [None, "3"]
    assert [event["eventId"] for event in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "workflow_completed"
