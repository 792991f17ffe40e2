"""The workflow class users write, the event its run() receives, and one run() against a journal."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from .errors import NotSerializableError, error_info
from .journal import Journal
from .step import WorkflowStep
from .values import JsonValue, to_json_value


class WorkflowEvent(Mapping[str, Any]):
    """
    What run() receives as `event`. Readable by key as Cloudflare's Python SDK hands it over (`event["payload"]`,
    `event["instanceId"]`), and by attribute (`event.payload`, `event.instance_id`).
    """

    def __init__(self, *, payload: JsonValue, timestamp: datetime, instance_id: str, workflow_name: str) -> None:
        self.payload = payload
        self.timestamp = timestamp
        self.instance_id = instance_id
        self.workflow_name = workflow_name

    def _fields(self) -> dict[str, Any]:
        return {"payload": self.payload, "timestamp": self.timestamp, "instanceId": self.instance_id, "workflowName": self.workflow_name}

    def __getitem__(self, key: str) -> Any:
        return self._fields()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields())

    def __len__(self) -> int:
        return 4

    def __repr__(self) -> str:
        return f"WorkflowEvent({self._fields()!r})"


class WorkflowEntrypoint:
    """
    The base class of a Python workflow, as Cloudflare's: subclass it and write `async def run(self, event, step)`.
    `self.env` holds what the worker was given; run()'s return value is the instance's output.
    """

    def __init__(self, ctx: Any = None, env: Any = None) -> None:
        self.ctx = ctx
        self.env = env

    async def run(self, event: WorkflowEvent, step: WorkflowStep) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define async def run(self, event, step)")


async def run_workflow(workflow: WorkflowEntrypoint, event: WorkflowEvent, journal: Journal) -> None:
    """
    One pass of run() against the journal: every call it makes goes to the journal, and its end (the output, or the
    exception that escaped) is reported to it. A cancellation (the engine ended the pass) is not an end: it propagates.
    """
    step = WorkflowStep(journal)
    try:
        output = await workflow.run(event, step)
    except Exception as error:
        await journal.run_failed(error_info(error))
        return
    try:
        value = to_json_value(output, "The workflow's output")
    except NotSerializableError as error:
        await journal.run_failed(error_info(error))
        return
    await journal.run_completed(value)
