"""Calling the user's functions: coroutine functions on the loop, plain functions in a thread."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable


async def call_user(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """
    The result of `function(*args, **kwargs)`. A plain function runs in the loop's default thread pool, so CPU-bound
    work (numpy, a training epoch) leaves the loop free for the other steps and instances it serves; whatever it
    returns that can be awaited (a coroutine from a callable object or a lambda) is awaited on the loop.
    """
    if inspect.iscoroutinefunction(function):
        result = function(*args, **kwargs)
    else:
        result = await asyncio.to_thread(function, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result
