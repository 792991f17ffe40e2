"""Durations as the engine reads them (core/durations.ts): milliseconds, or a count and a unit."""

from __future__ import annotations

import math
import re
from typing import Union

Duration = Union[int, float, str]

_UNIT_MS = {
    "millisecond": 1,
    "second": 1000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": 86_400_000,
    "week": 604_800_000,
    "month": 2_592_000_000,
    "year": 31_536_000_000,
}

_PATTERN = re.compile(r"^(\d+(?:\.\d+)?) +([a-z]+?)s?$")


class InvalidDurationError(ValueError):
    """A duration that is neither milliseconds nor a string like "10 seconds"."""

    def __init__(self, value: object) -> None:
        super().__init__(f'{value!r} is not a duration: use milliseconds (a number >= 0) or a string like "10 seconds", "2 hours", "1 day".')


def to_milliseconds(duration: object) -> float:
    """Milliseconds for `duration`: a number >= 0 as it is, "2.5 days" converted; anything else refused."""
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        if math.isfinite(duration) and duration >= 0:
            return duration
        raise InvalidDurationError(duration)
    # Bounded before the pattern sees it: no duration is this long.
    if isinstance(duration, str) and len(duration) <= 64:
        match = _PATTERN.match(duration.strip().lower())
        if match and match.group(2) in _UNIT_MS:
            ms = float(match.group(1)) * _UNIT_MS[match.group(2)]
            return int(ms) if ms.is_integer() else ms
    raise InvalidDurationError(duration)
