"""
The kill tests' workflow: `steps` steps in sequence, each body counted in a ledger file outside both the worker and
the engine, so a test can tell which bodies ran, and ran to their end, whatever was killed.

The worker's environment says where and what: DM_WORKER (its name in the ledger), DM_LEDGER (the ledger file, one line per event, appended and fsynced),
DM_HOLD (a step name whose bodies wait, in this worker only) and DM_GATE (the file whose existence lets them go on; a
held body with no gate waits until the worker is killed).
"""

from __future__ import annotations

import asyncio
import os

from durable_machines import WorkflowEntrypoint

GATE_POLL_SECONDS = 0.02


def count(instance: str, key: str, attempt: int, what: str) -> None:
    """One ledger line, durable before the body goes on: `<instance> <key> <attempt> <began|returned> <worker>`."""
    line = f"{instance} {key} {attempt} {what} {os.environ.get('DM_WORKER', os.getpid())}\n".encode()
    descriptor = os.open(os.environ["DM_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


async def held(name: str) -> None:
    if os.environ.get("DM_HOLD") != name:
        return
    gate = os.environ.get("DM_GATE")
    while gate is None or not os.path.exists(gate):
        await asyncio.sleep(GATE_POLL_SECONDS)


class Counted(WorkflowEntrypoint):
    async def run(self, event, step):
        instance = event["instanceId"]
        total = 0
        for n in range(event["payload"]["steps"]):

            @step.do(f"s{n}")
            async def work(ctx):
                key = f"do:{ctx['step']['name']}-{ctx['step']['count']}"
                count(instance, key, ctx["attempt"], "began")
                await held(ctx["step"]["name"])
                count(instance, key, ctx["attempt"], "returned")
                return n * n

            total += await work()
        return {"total": total}
