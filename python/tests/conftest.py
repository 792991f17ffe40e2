"""Fixtures shared by the tests: `engine`, the repository's own Worker (what `npm start` serves) running in workerd."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine_server import Engine, start_engine

API_TOKEN = "python-tests-api-token"
WORKER_TOKEN = "python-tests-worker-token"


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The example Worker (wrangler.toml at the repository's root), started once for the session on fresh state."""
    with start_engine("wrangler.toml", api_token=API_TOKEN, worker_token=WORKER_TOKEN) as running:
        yield running
