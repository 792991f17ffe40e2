"""
A client for the engine's HTTP API (`/api`, README "HTTP API"; its OpenAPI document is `GET /api/openapi.json`): start
and drive workflows, written in any language the engine serves, from a Python service. Async, on httpx. Names follow
Cloudflare's Workflows binding (`create`, `create_batch`, `get`, `status`, `send_event`, `pause`, `resume`,
`terminate`, `restart`), so code written against it reads the same.

    async with Client("http://127.0.0.1:8787", token) as client:
        pipeline = client.workflow("data-pipeline")
        instance = await pipeline.create(params={"source": "orders", "partitions": 2})
        async for event in instance.subscribe():
            print(event["type"])

Every refusal the API answers (`{ "error": { "code", "message" } }`) raises ApiError with its code and HTTP status.
Values cross as the API sends them: JSON, times as epoch milliseconds; params and payloads sent may hold aware
datetimes, which cross as a JavaScript Date's ISO string.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypedDict, Union, cast
from urllib.parse import quote

import httpx

from .values import to_json_value
from .wire import to_wire

# A call that is not a stream: long enough for a batch of 100 creates on a busy engine.
DEFAULT_TIMEOUT_SECONDS = 30.0
# The API's page size at most (history, steps, instances).
MAX_PAGE = 1000
# A dropped event stream is opened again from its last event this many times in a row before subscribe() gives up.
MAX_RECONNECTS = 5
MAX_RECONNECT_BACKOFF_SECONDS = 2.0
TERMINAL_EVENTS = frozenset({"workflow_completed", "workflow_errored", "workflow_terminated"})

InstanceStatusName = Literal["queued", "running", "paused", "waitingForPause", "waiting", "complete", "errored", "terminated", "rollingBack", "unknown"]


class ApiError(Exception):
    """A refusal of the API: its stable `code` (README "Errors"), the HTTP `status`, and the message saying what to do."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code = code
        self.status = status
        self.message = message


class BatchError(ApiError):
    """
    create_batch() where the engine refused some entries and created the others (HTTP 207): `created` are the
    instances made, `errors` each refusal `{ index, id?, code, message }`; `code` is the first refusal's.
    """

    def __init__(self, created: list[Instance], errors: list[BatchRefusal]) -> None:
        first = errors[0]
        super().__init__(first["code"], 207, f"{len(errors)} of {len(created) + len(errors)} instances were refused; the first, at index {first['index']}: {first['message']}")
        self.created = created
        self.errors = errors


class ErrorInfo(TypedDict):
    name: str
    message: str


class _StatusFields(TypedDict):
    id: str
    status: InstanceStatusName
    value: Any


class InstanceStatus(_StatusFields, total=False):
    """`status()` and every lifecycle call's answer: `output` once complete, `error` once errored."""

    output: Any
    error: ErrorInfo


class InstanceSummary(TypedDict):
    """One instance in a workflow's list; times in epoch milliseconds."""

    id: str
    status: InstanceStatusName
    createdAt: float
    updatedAt: float


class _RecordFields(TypedDict):
    seq: int
    at: float
    type: str
    data: Any


class HistoryRecord(_RecordFields, total=False):
    """One record of an instance's log, oldest first; `at` in epoch milliseconds; sensitive values "[REDACTED]"."""

    id: str


class _EventFields(TypedDict):
    type: str
    instanceId: str
    eventId: int
    timestamp: float


class InstanceEvent(_EventFields, total=False):
    """One of Cloudflare's `WorkflowInstanceEvent`s, as subscribe() yields them; the others keys by `type`."""

    stepName: str
    attempt: int
    params: Any
    output: Any
    error: ErrorInfo
    config: Any
    retryDelayMs: float
    durationMs: float
    eventType: str


class BatchRefusal(TypedDict, total=False):
    index: int
    id: str
    code: str
    message: str


class StepFrom(TypedDict, total=False):
    """Cloudflare's way of naming the step restart() starts from: its name, and which of its calls and of what kind."""

    name: str
    count: int
    type: Literal["do", "sleep", "waitForEvent"]


class CreateOptions(TypedDict, total=False):
    """One instance of create_batch(): as create()'s arguments."""

    id: str
    params: Any
    retention: Mapping[str, Union[int, str]]
    location_hint: str


Retention = Mapping[str, Union[int, str]]


def _json(value: object, what: str) -> Any:
    """A value as the API takes it: JSON, an aware datetime as the ISO string a JavaScript Date's JSON is."""
    return to_wire(to_json_value(value, what))["json"]


def _create_body(id: str | None, params: object, retention: Retention | None, location_hint: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if id is not None:
        body["id"] = id
    if params is not None:
        body["params"] = _json(params, "The instance's params")
    if retention is not None:
        body["retention"] = dict(retention)
    if location_hint is not None:
        body["locationHint"] = location_hint
    return body


def _raise_for(response: httpx.Response) -> None:
    """ApiError for an answer the API refused with; one without its error shape (a proxy's) keeps its status as code."""
    if response.status_code < 400:
        return
    code, message = f"http.{response.status_code}", response.text[:500]
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code, message = error["code"], str(error.get("message", ""))
    raise ApiError(code, response.status_code, message)


class Client:
    """The engine's API at `url` (its origin, e.g. http://127.0.0.1:8787), with its API_TOKEN. Close it, or use `async with`."""

    def __init__(self, url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=url.rstrip("/"), headers={"authorization": f"Bearer {token}"}, timeout=timeout, transport=transport)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def workflow(self, name: str) -> Workflow:
        """A workflow by the name it was registered under (nothing is asked of the engine until a call)."""
        return Workflow(self, name)

    async def workflows(self) -> list[str]:
        """The names of the workflows the engine serves."""
        return cast(list[str], (await self.request("GET", "/api/workflows"))["workflows"])

    async def pages(self, path: str, query: dict[str, Any], *, items: str, answer: str, asks: str) -> AsyncIterator[Any]:
        """The `items` of every page of a list: each page's `answer` field (absent on the last) is the next one's `asks`."""
        query = dict(query)
        while True:
            page = await self.request("GET", path, query=query)
            for item in page[items]:
                yield item
            if answer not in page:
                return
            query[asks] = page[answer]

    async def request(self, method: str, path: str, *, body: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None) -> Any:
        """One call of the API: its JSON answer, or ApiError."""
        response = await self._http.request(method, path, json=dict(body) if body is not None else None, params=dict(query) if query is not None else None)
        _raise_for(response)
        return response.json() if response.content else None

    def stream(self, path: str, query: Mapping[str, Any], headers: Mapping[str, str]) -> Any:
        """An open streaming GET (the event stream): no read timeout, since an instance may wait for days between events."""
        return self._http.stream("GET", path, params=dict(query), headers=dict(headers), timeout=httpx.Timeout(self._http.timeout.connect, read=None))


class Workflow:
    """One workflow's instances: create, get, list, count, delete."""

    def __init__(self, client: Client, name: str) -> None:
        self._client = client
        self.name = name
        self._path = f"/api/workflows/{quote(name, safe='')}"

    def __repr__(self) -> str:
        return f"Workflow({self.name!r})"

    async def create(self, id: str | None = None, params: object = None, *, retention: Retention | None = None, location_hint: str | None = None) -> Instance:
        """
        Creates an instance (a random id when none is given) and returns its handle. `retention`:
        `{"successRetention"?, "errorRetention"?}` as milliseconds or strings like "7 days".
        """
        answer = await self._client.request("POST", f"{self._path}/instances", body=_create_body(id, params, retention, location_hint))
        return Instance(self._client, self.name, answer["id"])

    async def create_batch(self, instances: Iterable[CreateOptions]) -> list[Instance]:
        """
        Creates up to 100 instances, each tried on its own, and returns their handles in order. When the engine refuses
        some, raises BatchError, which holds the instances created and each refusal with its index.
        """
        entries = [
            _create_body(entry.get("id"), entry.get("params"), entry.get("retention"), entry.get("location_hint"))
            for entry in instances
        ]
        answer = await self._client.request("POST", f"{self._path}/instances/batch", body={"instances": entries})
        created = [Instance(self._client, self.name, item["id"]) for item in answer["created"]]
        if answer["errors"]:
            raise BatchError(created, cast(list[BatchRefusal], answer["errors"]))
        return created

    async def get(self, id: str) -> Instance:
        """The instance's handle; ApiError `instance.not_found` when the workflow has none with this id."""
        instance = Instance(self._client, self.name, id)
        await instance.status()
        return instance

    async def instances(
        self, *, status: InstanceStatusName | None = None, order: Literal["newest", "oldest"] = "newest", page_size: int = 100
    ) -> AsyncIterator[InstanceSummary]:
        """
        Every instance of the workflow (only those with `status` when given), a page at a time: the newest created
        first, or the oldest with `order="oldest"`; instances created in the same millisecond by id.
        """
        query: dict[str, Any] = {"limit": page_size, "order": order, **({"status": status} if status is not None else {})}
        async for item in self._client.pages(f"{self._path}/instances", query, items="instances", answer="cursor", asks="cursor"):
            yield cast(InstanceSummary, item)

    async def counts(self) -> dict[InstanceStatusName, int]:
        """How many instances have each status (every status listed, 0 when none)."""
        return cast(dict[InstanceStatusName, int], (await self._client.request("GET", self._path))["counts"])

    async def delete_batch(self, ids: Sequence[str]) -> dict[str, Any]:
        """Deletes up to 100 instances by id: `{ "deleted": [{ id }], "errors": [{ id, code, message }] }`."""
        return cast(dict[str, Any], await self._client.request("POST", f"{self._path}/instances/batch/delete", body={"ids": list(ids)}))

    async def delete_all(self) -> int:
        """Deletes every instance of the workflow, logs included; returns how many."""
        return cast(int, (await self._client.request("DELETE", f"{self._path}/instances"))["deleted"])


class Instance:
    """One instance: its status, its lifecycle, its events, its log."""

    def __init__(self, client: Client, workflow: str, id: str) -> None:
        self._client = client
        self.workflow = workflow
        self.id = id
        self._path = f"/api/workflows/{quote(workflow, safe='')}/instances/{quote(id, safe='')}"

    def __repr__(self) -> str:
        return f"Instance({self.workflow!r}, {self.id!r})"

    async def status(self) -> InstanceStatus:
        """`{ id, status, value, output?, error? }`."""
        return cast(InstanceStatus, await self._client.request("GET", self._path))

    async def send_event(self, type: str, payload: object = None, *, idempotency_key: str | None = None) -> InstanceStatus:
        """Sends the instance an event; a second event with the same `idempotency_key` is accepted and ignored."""
        body: dict[str, Any] = {"type": type}
        if payload is not None:
            body["payload"] = _json(payload, "The event's payload")
        if idempotency_key is not None:
            body["idempotencyKey"] = idempotency_key
        return cast(InstanceStatus, await self._client.request("POST", f"{self._path}/events", body=body))

    async def pause(self) -> InstanceStatus:
        """Pauses the instance once the steps under way are done; a finished instance is left as it is."""
        return cast(InstanceStatus, await self._client.request("POST", f"{self._path}/pause", body={}))

    async def resume(self) -> InstanceStatus:
        """Resumes a paused instance (ApiError `instance.cannot_resume` otherwise)."""
        return cast(InstanceStatus, await self._client.request("POST", f"{self._path}/resume", body={}))

    async def terminate(self, *, rollback: bool = False) -> InstanceStatus:
        """Terminates the instance; with `rollback`, its started steps' rollback handlers or compensations run first."""
        return cast(InstanceStatus, await self._client.request("POST", f"{self._path}/terminate", body={"rollback": True} if rollback else {}))

    async def restart(self, *, from_step: str | StepFrom | None = None) -> InstanceStatus:
        """
        Restarts the instance from the start, or from a step (its key as steps() or history() shows it, or Cloudflare's
        `{"name", "count"?, "type"?}`): the steps before it keep their results.
        """
        body: dict[str, Any] = {} if from_step is None else {"from": from_step if isinstance(from_step, str) else dict(from_step)}
        return cast(InstanceStatus, await self._client.request("POST", f"{self._path}/restart", body=body))

    async def delete(self) -> None:
        """Wipes the instance, its log included, and stops its work; the id can be used again."""
        await self._client.request("DELETE", self._path)

    async def history(self, *, after: int = 0, page_size: int = MAX_PAGE) -> AsyncIterator[HistoryRecord]:
        """The instance's log, oldest first, from the record after seq `after`, fetched a page at a time."""
        async for record in self._client.pages(f"{self._path}/history", {"after": after, "limit": page_size}, items="records", answer="next", asks="after"):
            yield cast(HistoryRecord, record)

    async def steps(self, *, page_size: int = MAX_PAGE) -> AsyncIterator[dict[str, Any]]:
        """The step history of the current run, in the order the steps first started (key, name, kind, attempts, output...)."""
        async for step in self._client.pages(f"{self._path}/steps", {"after": 0, "limit": page_size}, items="steps", answer="next", asks="after"):
            yield cast(dict[str, Any], step)

    async def subscribe(self, *, cursor: int | None = None, filter: Sequence[str] | None = None) -> AsyncGenerator[InstanceEvent, None]:
        """
        The instance's events (Cloudflare's `WorkflowInstanceEvent`s) after eventId `cursor`, live, until the run's
        terminal event (`workflow_completed`, `workflow_errored`, `workflow_terminated`); only the types in `filter`
        when given. A stream that drops is opened again after the last event received, so none is missed or repeated.
        Leaving the loop early holds the connection until the generator is closed: use `contextlib.aclosing`.
        """
        last = cursor
        failures = 0
        while True:
            query: dict[str, Any] = {"filter": ",".join(filter)} if filter else {}
            headers = {"accept": "text/event-stream", **({"last-event-id": str(last)} if last is not None else {})}
            try:
                async with self._client.stream(f"{self._path}/events", query, headers) as response:
                    if response.status_code == 204:
                        return  # Finished, and nothing follows the cursor.
                    if response.status_code >= 400:
                        await response.aread()
                        _raise_for(response)
                    async for event in _server_sent_events(response):
                        last, failures = event["eventId"], 0
                        yield event
                        if event["type"] in TERMINAL_EVENTS:
                            return
            except httpx.TransportError:
                failures += 1
                if failures > MAX_RECONNECTS:
                    raise
                await asyncio.sleep(min(0.1 * 2 ** (failures - 1), MAX_RECONNECT_BACKOFF_SECONDS))
            # The stream ended before the terminal event (the connection was cut, or a filter left it out): open it
            # again after the last event; a finished instance with nothing more answers 204.


async def _server_sent_events(response: httpx.Response) -> AsyncIterator[InstanceEvent]:
    """The events of a text/event-stream: `data:` lines joined, dispatched at each blank line (the SSE format)."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield cast(InstanceEvent, _parse_event("\n".join(data)))
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        # `id:` repeats the event's eventId, which the event carries; comments and other fields carry nothing here.


def _parse_event(text: str) -> dict[str, Any]:
    event = json.loads(text)
    if not isinstance(event, dict) or not isinstance(event.get("eventId"), int):
        raise ApiError("subscription.malformed", 200, f"The event stream sent {text[:120]!r}, which is not an instance event.")
    return cast(dict[str, Any], event)


__all__ = [
    "ApiError",
    "BatchError",
    "BatchRefusal",
    "Client",
    "CreateOptions",
    "ErrorInfo",
    "HistoryRecord",
    "Instance",
    "InstanceEvent",
    "InstanceStatus",
    "InstanceStatusName",
    "InstanceSummary",
    "StepFrom",
    "Workflow",
]
