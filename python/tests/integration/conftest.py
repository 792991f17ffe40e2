"""
The integration suite's engine: test/python-engine's Worker (the Python examples, the conformance twins, the counted
workflow) in workerd, started once for the session; and a client of its HTTP API per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from durable_machines import Client
from engine_server import Engine, start_engine

SUITE_WORKER = "test/python-engine/wrangler.toml"
API_TOKEN = "python-suite-api-token"
WORKER_TOKEN = "python-suite-worker-token"


@pytest.fixture(scope="session")
def suite_engine() -> Iterator[Engine]:
    with start_engine(SUITE_WORKER, api_token=API_TOKEN, worker_token=WORKER_TOKEN) as running:
        yield running


@pytest.fixture
async def api(suite_engine: Engine) -> AsyncIterator[Client]:
    async with Client(suite_engine.url, suite_engine.api_token) as client:
        yield client
