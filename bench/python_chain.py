"""The benchmark's Python workflow: n trivial steps in a row, the same work as bench/workflows.ts's chain."""

from typing import Any

from durable_machines import WorkflowEntrypoint


class PyChain(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> int:
        n = int(event["payload"]["n"])
        for i in range(n):

            @step.do("step")
            async def one() -> int:
                return i

            await one()
        return n
