"""
The fake engine (fake_engine.py) over real HTTP on 127.0.0.1, for tests that run the worker as a process of its own:
a minimal HTTP/1.1 server (keep-alive, Content-Length bodies, as httpx sends them) that hands each request to the
fake engine's handler. A request whose connection closes before its answer (a worker that stopped claiming, or was
killed) is cancelled, as a real server drops it: the fake engine never hands a task to a claim nobody waits for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from fake_engine import FakeEngine


@dataclass
class Served:
    url: str
    # The endpoint of each request being answered (a long poll stays here while it waits).
    in_flight: list[str] = field(default_factory=list)


async def _respond(engine: FakeEngine, served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ", 2)
            headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in head[1:] if line)]
            length = int(next((value for name, value in headers if name.lower() == "content-length"), "0"))
            body = await reader.readexactly(length)
            endpoint = target.rsplit("/", 1)[-1]
            served.in_flight.append(endpoint)
            handling = asyncio.ensure_future(engine.handle(httpx.Request(method, served.url + target, headers=headers, content=body)))
            # httpx sends nothing more on a connection until it has the answer: anything read now is its end.
            closed = asyncio.ensure_future(reader.read(1))
            try:
                await asyncio.wait({handling, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                served.in_flight.remove(endpoint)
                closed.cancel()
                # Until the cancelled read has let go of the reader, the next read would fail ("already waiting").
                await asyncio.gather(closed, return_exceptions=True)
            if not handling.done():
                handling.cancel()
                return
            response = handling.result()
            content = response.content
            writer.write(
                f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(content)}\r\n\r\n".encode("latin-1") + content
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # The worker closed the connection (it stopped, or was killed).
    finally:
        writer.close()


@asynccontextmanager
async def serve_http(engine: FakeEngine) -> AsyncIterator[Served]:
    """The engine served while the context lasts; then the server and every connection's handler are stopped."""
    handlers: set[asyncio.Task[None]] = set()
    served = Served("")

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.create_task(_respond(engine, served, reader, writer))
        handlers.add(handler)
        handler.add_done_callback(handlers.discard)

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    served.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield served
    finally:
        server.close()
        for handler in list(handlers):
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
