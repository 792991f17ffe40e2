"""The conformance workflow in Python; conformance.ts is the same workflow in TypeScript, line for line."""

from __future__ import annotations

import asyncio

from durable_machines import WorkflowEntrypoint


class Twin(WorkflowEntrypoint):
    async def run(self, event, step):
        @step.do()
        async def prepare():
            return [item.upper() for item in event["payload"]["items"]]

        @step.do(config={"retries": {"limit": 2, "delay": 100, "backoff": "constant"}})
        async def flaky(ctx):
            if ctx["attempt"] == 1:
                raise RuntimeError("transient failure (simulated)")
            return f"recovered on attempt {ctx['attempt']}"

        def pack(item):
            @step.do(f"pack {item}")
            async def packed():
                return f"box:{item}"

            return packed()

        items = await prepare()
        recovered = await flaky()
        packed = await asyncio.gather(*(pack(item) for item in items))
        await step.sleep("settle", 1_000)
        approval = await step.wait_for_event("approval", "approve", timeout="1 hour")

        @step.do()
        async def ship():
            return f"{len(packed)} boxes approved by {approval['payload']['by']}"

        return {"recovered": recovered, "packed": packed, "shipped": await ship()}
