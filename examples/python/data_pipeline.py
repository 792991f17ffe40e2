"""
A data pipeline: ingest a source into partitions, clean every partition at once (one step each, fanned out with
`asyncio.gather`), then join the cleaned partitions into a summary and publish a manifest of them.

The source is simulated: each partition holds order lines `"<order id>,<customer>,<cents>"`, some of them sent
twice. Cleaning drops the repeats and totals the rest; every output depends only on its input, so a partition
cleaned again after a crash comes out the same.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from durable_machines import NonRetryableError, WorkflowEntrypoint

MAX_PARTITIONS = 16


def order_lines(source: str, partition: int) -> list[str]:
    """The partition's lines: 50 orders, every seventh one delivered twice, as at-least-once sources do."""
    lines: list[str] = []
    for n in range(50):
        order = f"{source}-{partition}-{n}"
        cents = int(hashlib.sha256(order.encode()).hexdigest()[:4], 16) % 10_000
        lines.append(f"{order},customer-{n % 9},{cents}")
        if n % 7 == 0:
            lines.append(lines[-1])
    return lines


def clean(partition: int, lines: list[str]) -> dict[str, Any]:
    unique = sorted(set(lines))
    return {
        "partition": partition,
        "orders": len(unique),
        "duplicatesDropped": len(lines) - len(unique),
        "cents": sum(int(line.rsplit(",", 1)[1]) for line in unique),
        "checksum": hashlib.sha256("\n".join(unique).encode()).hexdigest()[:16],
    }


class DataPipeline(WorkflowEntrypoint):
    async def run(self, event, step):
        source: str = event["payload"]["source"]
        partitions: int = event["payload"].get("partitions", 4)

        @step.do()
        def ingest() -> list[dict[str, Any]]:
            if not 1 <= partitions <= MAX_PARTITIONS:
                raise NonRetryableError(f"partitions must be 1 to {MAX_PARTITIONS}, got {partitions}")
            return [{"partition": p, "lines": order_lines(source, p)} for p in range(partitions)]

        def cleaned(batch: dict[str, Any]) -> Any:
            @step.do(f"clean {batch['partition']}", config={"retries": {"limit": 2, "delay": "1 second"}})
            def clean_partition() -> dict[str, Any]:
                return clean(batch["partition"], batch["lines"])

            return clean_partition()

        # One step per partition, all running at once: each is retried on its own, and the results come in order.
        parts = await asyncio.gather(*(cleaned(batch) for batch in await ingest()))

        @step.do()
        def join() -> dict[str, Any]:
            return {
                "partitions": len(parts),
                "orders": sum(part["orders"] for part in parts),
                "duplicatesDropped": sum(part["duplicatesDropped"] for part in parts),
                "cents": sum(part["cents"] for part in parts),
            }

        @step.do()
        def publish(join: dict[str, Any]) -> str:
            digest = hashlib.sha256("".join(part["checksum"] for part in parts).encode()).hexdigest()[:16]
            return f"warehouse/{source}/manifest-{digest}.json ({join['orders']} orders)"

        return {"source": source, "summary": await join(), "manifest": await publish()}
