"""
Values as they cross the worker protocol (docs/python-protocol.md): `{"json": ..., "meta"?: ...}`, superjson's format
(https://github.com/flightcontrolhq/superjson), the one the engine stores values in. Python writes and reads metadata
for datetimes only: a datetime crosses as the ISO string a JavaScript Date's `toISOString()` gives, with its path in
`meta.values` (`["Date"]` for the root, `{"a.b": ["Date"]}` below it), written as superjson 2 writes it (`"v": 1`,
keys joined by ".", a "." or "\\" inside a key escaped with "\\"). Anything else the engine sends metadata for (a Map,
a BigInt, undefined...) is refused with a message naming it, rather than read as something it is not.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Union

from .errors import NotSerializableError
from .values import MAX_DEPTH, JsonValue

# What crosses: plain JSON plus superjson's metadata.
WireValue = dict[str, Any]
_PathSegment = Union[str, int]

# superjson's names for what it annotates, as a message names them.
_DESCRIBED = {
    "map": "a Map",
    "set": "a Set",
    "bigint": "a BigInt",
    "regexp": "a RegExp",
    "undefined": "undefined",
    "symbol": "a Symbol",
    "Error": "an Error",
    "URL": "a URL",
    "number": "a number JSON cannot hold (NaN or ±Infinity)",
    "class": "an instance of a registered class",
    "custom": "a value of a custom superjson type",
    "typed-array": "a typed array",
}

# Date.prototype.toISOString(): four-digit years, or six digits with a sign outside 0..9999.
_ISO = re.compile(r"^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class WireFormatError(ValueError):
    """A value from the engine that this package cannot read: metadata for something other than a Date, or malformed."""


def _escape(segment: _PathSegment) -> str:
    # superjson's escapeKey (pathstringifier.ts): backslashes first, then dots.
    return str(segment).replace("\\", "\\\\").replace(".", "\\.")


def _path_string(path: list[_PathSegment]) -> str:
    return ".".join(_escape(segment) for segment in path)


def _parse_path(text: str, legacy: bool) -> list[str]:
    """superjson's parsePath: "." separates keys, "\\." is a dot inside one, and (metadata v1) "\\\\" a backslash."""
    segments: list[str] = []
    segment = ""
    index = 0
    while index < len(text):
        char = text[index]
        following = text[index + 1] if index + 1 < len(text) else ""
        if char == "\\" and following == ".":
            segment += "."
            index += 2
            continue
        if char == "\\" and not legacy:
            if following != "\\":
                raise WireFormatError(f"The engine sent metadata with the path {text!r}, which superjson cannot parse.")
            segment += "\\"
            index += 2
            continue
        if char == ".":
            segments.append(segment)
            segment = ""
        else:
            segment += char
        index += 1
    segments.append(segment)
    return segments


def _iso(moment: datetime) -> str:
    """What `new Date(moment).toISOString()` prints: UTC, milliseconds (a JavaScript Date keeps no finer)."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}Z"


def _from_iso(text: object, where: str) -> datetime:
    match = _ISO.match(text) if isinstance(text, str) and len(text) <= 40 else None
    if match is None:
        raise WireFormatError(f"The engine sent {where} as a Date, but its value {str(text)[:60]!r} is not an ISO date.")
    year = int(match.group(1))
    if not 1 <= year <= 9999:
        raise WireFormatError(f"The engine sent {where} as a Date in the year {year}, outside the years 1 to 9999 a Python datetime holds.")
    fraction = (match.group(7) or "0")[:6].ljust(6, "0")
    return datetime(year, int(match.group(2)), int(match.group(3)), int(match.group(4)), int(match.group(5)), int(match.group(6)), int(fraction), tzinfo=timezone.utc)


def from_epoch_ms(ms: float) -> datetime:
    """An instant in epoch milliseconds (a JavaScript Date's number) as an aware datetime."""
    return _EPOCH + timedelta(milliseconds=ms)


def to_wire(value: JsonValue) -> WireValue:
    """
    `value` (JSON and aware datetimes, as `values.to_json_value` lets through) as superjson's `SuperJSON.serialize`
    writes it. Iterative and depth-bounded: what `to_json_value` accepted never exhausts the stack here.
    """
    dates: list[list[_PathSegment]] = []
    root: list[Any] = [None]
    pending: list[tuple[object, list[_PathSegment], list[Any] | dict[str, Any], int | str]] = [(value, [], root, 0)]
    while pending:
        item, path, parent, slot = pending.pop()
        if len(path) > MAX_DEPTH:
            raise NotSerializableError(f"A value is nested more than {MAX_DEPTH} levels deep at {_path_string(path)}.")
        copy: Any
        if item is None or isinstance(item, (bool, str)):
            copy = item
        elif isinstance(item, (int, float)):
            if isinstance(item, float) and not math.isfinite(item):
                raise NotSerializableError(f"{item} at {_path_string(path) or 'the root'} cannot cross as JSON.")
            copy = item
        elif isinstance(item, datetime):
            if item.utcoffset() is None:
                raise NotSerializableError(f"The datetime at {_path_string(path) or 'the root'} is naive: give it a time zone so that it names one instant.")
            copy = _iso(item)
            dates.append(path)
        elif isinstance(item, (list, tuple)):
            copy = [None] * len(item)
            pending.extend((element, [*path, index], copy, index) for index, element in enumerate(item))
        elif isinstance(item, dict):
            copy = {}
            for key, element in item.items():
                if not isinstance(key, str):
                    raise NotSerializableError(f"The key {key!r} at {_path_string(path) or 'the root'} is not a string.")
                copy[key] = None
                pending.append((element, [*path, key], copy, key))
        else:
            raise NotSerializableError(f"{type(item).__name__} at {_path_string(path) or 'the root'} cannot cross: only JSON and aware datetimes do.")
        parent[slot] = copy  # type: ignore[index]
    wire: WireValue = {"json": root[0]}
    if dates:
        # Sorted as superjson walks: in document order, which for a dict is insertion order and for a list its index.
        annotations: Any = ["Date"] if dates == [[]] else {_path_string(path): ["Date"] for path in _document_order(dates)}
        wire["meta"] = {"values": annotations, "v": 1}
    return wire


def _document_order(paths: list[list[_PathSegment]]) -> list[list[_PathSegment]]:
    # The walk above pops the last child first; reversing gives the order superjson's recursive walk writes.
    return list(reversed(paths))


def _describe(kind: object) -> str:
    name = kind[0] if isinstance(kind, list) and kind else kind
    detail = f" ({kind[1]})" if isinstance(kind, list) and len(kind) > 1 else ""
    return (_DESCRIBED.get(name, f"a value superjson calls {name!r}") if isinstance(name, str) else f"a value superjson calls {name!r}") + detail


def _annotations(values: object, legacy: bool) -> list[tuple[list[str], object]]:
    """superjson's annotation tree (plainer.ts traverse) as (path, type) pairs, walked without recursion."""
    found: list[tuple[list[str], object]] = []
    pending: list[tuple[object, list[str]]] = [(values, [])]
    while pending:
        tree, path = pending.pop()
        if len(path) > MAX_DEPTH:
            raise WireFormatError(f"The engine sent metadata nested more than {MAX_DEPTH} levels deep.")
        if isinstance(tree, list):
            if not tree:
                raise WireFormatError("The engine sent an empty superjson annotation.")
            children = tree[1] if len(tree) > 1 else None
            if children is not None:
                if not isinstance(children, dict):
                    raise WireFormatError("The engine sent a superjson annotation whose children are not an object.")
                pending.extend((child, [*path, *_parse_path(key, legacy)]) for key, child in children.items())
            found.append((path, tree[0]))
        elif isinstance(tree, dict):
            pending.extend((child, [*path, *_parse_path(key, legacy)]) for key, child in tree.items())
        else:
            raise WireFormatError(f"The engine sent superjson metadata of an unknown shape: {str(tree)[:60]!r}.")
    return found


def from_wire(wire: object, what: str = "a value") -> JsonValue:
    """
    The value superjson's `SuperJSON.deserialize` would give, for JSON and Dates (as aware UTC datetimes); a
    WireFormatError naming what else the metadata describes. `referentialEqualities` (two paths holding one object in
    JavaScript) is ignored: the JSON already holds a full copy at each path, which is all Python needs.
    """
    if not isinstance(wire, dict) or "json" not in wire:
        raise WireFormatError(f"The engine sent {what} without its \"json\": {str(wire)[:80]!r}.")
    value: Any = wire["json"]
    meta = wire.get("meta")
    if meta is None:
        return value  # type: ignore[no-any-return]
    if not isinstance(meta, dict):
        raise WireFormatError(f"The engine sent {what} with metadata that is not an object.")
    version = meta.get("v", 0)
    values = meta.get("values")
    if values is None:
        return value  # type: ignore[no-any-return]
    found = _annotations(values, legacy=not (isinstance(version, int) and version >= 1))
    for path, kind in found:
        if kind != "Date" and not (kind == "number" and _at(value, path, what) == "-0"):
            where = ".".join(path) or "the root"
            raise WireFormatError(
                f"The engine sent {what} holding {_describe(kind)} at {where}, which a Python workflow cannot read: "
                "only JSON and Dates cross to Python. Return plain JSON (and Dates) from steps a Python workflow reads."
            )
    for path, kind in found:
        where = f"{what} at {'.'.join(path) or 'its root'}"
        current = _at(value, path, what)
        replacement: Any = -0.0 if kind == "number" else _from_iso(current, where)
        if not path:
            value = replacement
        else:
            _container(value, path[:-1], what)[_slot(_container(value, path[:-1], what), path[-1], what)] = replacement
    return value  # type: ignore[no-any-return]


def _slot(container: list[Any] | dict[str, Any], segment: str, what: str) -> Any:
    if isinstance(container, list):
        if not segment.isdigit() or int(segment) >= len(container):
            raise WireFormatError(f"The engine sent {what} with metadata for the index {segment!r}, which it does not have.")
        return int(segment)
    if segment not in container:
        raise WireFormatError(f"The engine sent {what} with metadata for the key {segment!r}, which it does not have.")
    return segment


def _container(value: Any, path: list[str], what: str) -> Any:
    current = value
    for segment in path:
        if not isinstance(current, (list, dict)):
            raise WireFormatError(f"The engine sent {what} with metadata for a path ({'.'.join(path)}) its JSON does not have.")
        current = current[_slot(current, segment, what)]
    if not isinstance(current, (list, dict)):
        raise WireFormatError(f"The engine sent {what} with metadata for a path ({'.'.join(path)}) its JSON does not have.")
    return current


def _at(value: Any, path: list[str], what: str) -> Any:
    if not path:
        return value
    container = _container(value, path[:-1], what)
    return container[_slot(container, path[-1], what)]
