"""Values on the wire: superjson's {json, meta}, with metadata for datetimes only, exactly as superjson writes it."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from durable_machines import NotSerializableError
from durable_machines.wire import WireFormatError, from_wire, to_wire

AT = datetime(2024, 5, 1, 10, 30, 0, 250000, tzinfo=timezone.utc)
SUPERJSON = Path(__file__).resolve().parents[2] / "node_modules" / "superjson" / "dist" / "index.js"


def test_plain_json_crosses_without_metadata() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {}}
    assert to_wire(value) == {"json": value}
    assert from_wire({"json": value}) == value


def test_a_datetime_at_the_root_is_annotated_as_the_root() -> None:
    assert to_wire(AT) == {"json": "2024-05-01T10:30:00.250Z", "meta": {"values": ["Date"], "v": 1}}
    assert from_wire(to_wire(AT)) == AT


def test_nested_datetimes_are_annotated_by_path_with_dots_and_backslashes_escaped() -> None:
    value = {"a": AT, "b.c": [1, AT], "x\\y": {"d": AT}}
    sent = to_wire(value)
    assert sent["meta"] == {"values": {"a": ["Date"], "b\\.c.1": ["Date"], "x\\\\y.d": ["Date"]}, "v": 1}
    assert from_wire(sent) == value


def test_a_datetime_in_another_zone_crosses_as_its_instant_with_milliseconds() -> None:
    local = datetime(2024, 5, 1, 12, 30, 0, 250999, tzinfo=timezone(timedelta(hours=2)))
    assert to_wire(local)["json"] == "2024-05-01T10:30:00.250Z"  # a JavaScript Date keeps milliseconds, no finer
    assert from_wire(to_wire(local)) == AT


def test_a_naive_datetime_or_a_non_json_value_is_refused() -> None:
    with pytest.raises(NotSerializableError, match="naive"):
        to_wire(datetime(2024, 1, 1))
    with pytest.raises(NotSerializableError, match="set"):
        to_wire({"s": {1, 2}})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("meta", "named"),
    [
        ({"values": {"m": ["map"]}, "v": 1}, "a Map at m"),
        ({"values": {"m": ["bigint"]}, "v": 1}, "a BigInt at m"),
        ({"values": {"m.0": ["undefined"]}, "v": 1}, "undefined at m.0"),
        ({"values": {"m": [["class", "Money"]]}, "v": 1}, "an instance of a registered class (Money) at m"),
    ],
)
def test_metadata_for_anything_but_dates_is_refused_naming_the_type(meta: dict[str, Any], named: str) -> None:
    with pytest.raises(WireFormatError, match=named.replace("(", r"\(").replace(")", r"\)")):
        from_wire({"json": {"m": [1]}, "meta": meta}, "the output of step \"a\"")


def test_legacy_paths_without_a_version_are_read_as_superjson_reads_them() -> None:
    # Metadata before superjson 2's "v": 1: a backslash is an ordinary character, "\." still a dot in a key.
    assert from_wire({"json": {"x\\y": {"a.b": "2024-05-01T10:30:00.250Z"}}, "meta": {"values": {"x\\y.a\\.b": ["Date"]}}}) == {"x\\y": {"a.b": AT}}


def test_malformed_metadata_or_a_bad_date_is_refused() -> None:
    with pytest.raises(WireFormatError, match="without its"):
        from_wire({"value": 1})
    with pytest.raises(WireFormatError, match="not an ISO date"):
        from_wire({"json": "yesterday", "meta": {"values": ["Date"], "v": 1}})
    with pytest.raises(WireFormatError, match="outside the years"):
        from_wire({"json": "+275760-09-13T00:00:00.000Z", "meta": {"values": ["Date"], "v": 1}})
    with pytest.raises(WireFormatError, match="does not have"):
        from_wire({"json": {}, "meta": {"values": {"a": ["Date"]}, "v": 1}})


def test_negative_zero_and_shared_dates_read_as_superjson_writes_them() -> None:
    # superjson annotates -0 as ["number"] "-0", and a Date object at two paths as a referential equality.
    assert str(from_wire({"json": {"z": "-0"}, "meta": {"values": {"z": ["number"]}, "v": 1}})["z"]) == "-0.0"  # type: ignore[index]
    shared = {"json": {"p": "2024-05-01T10:30:00.250Z", "q": "2024-05-01T10:30:00.250Z"}, "meta": {"values": {"p": ["Date"], "q": ["Date"]}, "referentialEqualities": {"p": ["q"]}, "v": 1}}
    assert from_wire(shared) == {"p": AT, "q": AT}


# What Node builds for the second direction, and what Python must read from superjson's own serialize.
_NODE_SCRIPT = """
import SuperJSON from %s;
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
// Each wire value from Python, deserialized by superjson: which paths hold a Date, and superjson's own serialization.
const read = input.map((sent) => {
  const value = SuperJSON.deserialize(sent);
  const dates = [];
  const walk = (node, path) => {
    if (node instanceof Date) dates.push([path, node.toISOString()]);
    else if (Array.isArray(node)) node.forEach((item, index) => walk(item, [...path, index]));
    else if (node && typeof node === "object") for (const [key, item] of Object.entries(node)) walk(item, [...path, key]);
  };
  walk(value, []);
  return { dates, again: SuperJSON.serialize(value) };
});
// Values made in JavaScript, serialized by superjson, for Python to read.
const made = [
  SuperJSON.serialize(new Date(Date.UTC(2024, 4, 1, 10, 30, 0, 250))),
  SuperJSON.serialize({ "a.b": [new Date(0), "1970-01-01T00:00:00.000Z"], "x\\\\y": { when: new Date(86400000) }, n: 1.5 }),
];
process.stdout.write(JSON.stringify({ read, made }));
"""


def test_superjson_in_node_reads_what_python_writes_and_python_reads_what_it_writes() -> None:
    node = shutil.which("node")
    if node is None or not SUPERJSON.exists():
        pytest.skip(f"the Node cross-check needs node on PATH and superjson installed at {SUPERJSON} (npm install): neither direction was checked")
    values: list[Any] = [AT, {"a.b": [AT, "2024-05-01T10:30:00.250Z"], "x\\y": {"when": AT}, "n": 1.5}, {"plain": [1, "two", None]}]
    script = _NODE_SCRIPT % json.dumps(SUPERJSON.as_uri())
    completed = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps([to_wire(v) for v in values]), capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout)

    # Python → superjson: a Date exactly where Python had a datetime, and nowhere else (the look-alike string stays one).
    assert [entry["dates"] for entry in answer["read"]] == [
        [[[], "2024-05-01T10:30:00.250Z"]],
        [[["a.b", 0], "2024-05-01T10:30:00.250Z"], [["x\\y", "when"], "2024-05-01T10:30:00.250Z"]],
        [],
    ]
    # superjson serializing what it read writes what Python wrote, metadata included; and Python reads it back.
    for sent, entry, value in zip([to_wire(v) for v in values], answer["read"], values):
        assert entry["again"] == sent
        assert from_wire(entry["again"]) == value

    # superjson → Python: values made in JavaScript.
    assert from_wire(answer["made"][0]) == AT
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert from_wire(answer["made"][1]) == {"a.b": [epoch, "1970-01-01T00:00:00.000Z"], "x\\y": {"when": epoch + timedelta(days=1)}, "n": 1.5}
