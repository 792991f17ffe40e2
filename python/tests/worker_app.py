"""
Workflows for the command line's tests (test_cli.py), in the forms a spec can name: a dict, a list, one class.

`Gated` is run by a real worker process: its one step tells the test it started (a line `started <instance>` on
stdout) and waits for the test's go (a line on stdin), so the test decides when a pass finishes without any sleep.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from durable_machines import WorkflowEntrypoint, WorkflowEvent, WorkflowStep

_stdin: asyncio.StreamReader | None = None


async def _go() -> None:
    global _stdin
    if _stdin is None:
        loop = asyncio.get_running_loop()
        _stdin = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(_stdin), sys.stdin)
    await _stdin.readline()


class Gated(WorkflowEntrypoint):
    async def run(self, event: WorkflowEvent, step: WorkflowStep) -> Any:
        @step.do()
        async def work() -> Any:
            print(f"started {event['instanceId']}", flush=True)
            await _go()
            return event["instanceId"]

        return await work()


class Named(WorkflowEntrypoint):
    name = "named-by-attribute"


class Plain(WorkflowEntrypoint):
    pass


workflows = {"pipeline": Gated}
workflow_list = [Named, Plain]
twins = [Plain, Plain]
not_workflows = {"pipeline": "Gated"}
