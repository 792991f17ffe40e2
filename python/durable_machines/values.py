"""The values that cross to the engine: JSON, plus aware datetimes (JavaScript Dates on the other side)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Union

from .errors import NotSerializableError

JsonValue = Union[None, bool, int, float, str, datetime, list["JsonValue"], dict[str, "JsonValue"]]

# JavaScript numbers hold integers exactly only up to 2**53 - 1; a larger one would come back changed.
MAX_SAFE_INTEGER = 2**53 - 1
# Bounds checked before anything is copied: a value this deep or this large is refused, not walked.
MAX_DEPTH = 512
MAX_NODES = 1_000_000


def _describe(value: object) -> str:
    return f"a {type(value).__name__}"


def to_json_value(value: object, what: str) -> JsonValue:
    """
    A copy of `value` as it crosses to the engine (tuples become lists), or NotSerializableError saying where the
    first value that cannot cross is. Iterative, with bounded depth and size, so no user value can exhaust the stack.
    """
    nodes = 1
    root: list[JsonValue] = [None]
    # Each entry: the value, where it sits (for the message), its depth, and the container slot to fill.
    pending: list[tuple[object, str, int, list[JsonValue] | dict[str, JsonValue], int | str]] = [(value, "the value", 0, root, 0)]
    while pending:
        item, path, depth, parent, slot = pending.pop()
        if depth > MAX_DEPTH:
            raise NotSerializableError(f"{what} is nested more than {MAX_DEPTH} levels deep at {path}.")
        copy: JsonValue
        if item is None or isinstance(item, bool):
            copy = item
        elif isinstance(item, str):
            # A str subclass (a StrEnum member) crosses as the plain string it holds.
            copy = str.__str__(item)
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                raise NotSerializableError(f"{what} must be JSON, but {path} is the integer {item}, beyond ±2**53-1, which JSON numbers cannot hold exactly. Pass it as a string.")
            copy = int(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise NotSerializableError(f"{what} must be JSON, but {path} is {item}, which JSON cannot hold. Use null or a string.")
            copy = float(item)
        elif isinstance(item, datetime):
            if item.tzinfo is None or item.utcoffset() is None:
                raise NotSerializableError(f"{what} must be JSON, but {path} is a naive datetime: give it a time zone (datetime.now(timezone.utc)) so that it names one instant.")
            copy = item
        elif isinstance(item, (list, tuple, dict)) and nodes + len(item) > MAX_NODES:
            raise NotSerializableError(f"{what} has more than {MAX_NODES} values; store large data elsewhere and pass a reference.")
        elif isinstance(item, (list, tuple)):
            nodes += len(item)
            items: list[JsonValue] = [None] * len(item)
            copy = items
            for index in range(len(item) - 1, -1, -1):
                pending.append((item[index], f"{path}[{index}]", depth + 1, items, index))
        elif isinstance(item, dict):
            nodes += len(item)
            entries: dict[str, JsonValue] = {}
            copy = entries
            keys = list(item.keys())
            for key in keys:
                if not isinstance(key, str):
                    raise NotSerializableError(f"{what} must be JSON, but {path} has the key {key!r}, {_describe(key)}; JSON object keys are strings.")
                entries[key] = None
            for key in reversed(keys):
                pending.append((item[key], f"{path}[{key!r}]", depth + 1, entries, key))
        else:
            raise NotSerializableError(
                f"{what} must be JSON, but {path} is {_describe(item)}. Convert it to a string, number, boolean, None, list, dict or aware datetime."
            )
        if isinstance(parent, list):
            assert isinstance(slot, int)
            parent[slot] = copy
        else:
            assert isinstance(slot, str)
            parent[slot] = copy
    return root[0]
