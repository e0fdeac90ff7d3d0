"""What the property tests of the JSON readers (Reddit, Mastodon) share.

A file of records is written as JSON lines or as a JSON array (one element a line),
with a byte-order mark and Windows line breaks or without; any mix of good and bad
records must then be loaded once or reported once, at its line, verbatim.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from tests.conftest import consistent
from tribe_analysis import events as ev
from tribe_analysis.io._base import ReadResult

Read = Callable[..., ReadResult]
"""A reader's ``read(paths, on_error=...)``, checked (see :func:`checked`)."""


def text(record: dict | str) -> str:
    """A record as written: a string as it is (bad JSON), an object as JSON."""
    return record if isinstance(record, str) else json.dumps(record)


def write(path: Path, texts: list[str], layout: str, *, windows: bool = False) -> list[int]:
    """Write records as JSON lines or as an array (one element a line); their line numbers."""
    if layout == "lines":
        data, lines = "".join(f"{t}\n" for t in texts), list(range(1, len(texts) + 1))
    else:
        data, lines = "[\n" + ",\n".join(texts) + "\n]\n", list(range(2, len(texts) + 2))
    raw = data.encode()
    path.write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n") if windows else raw)
    return lines


def checked(result: ReadResult) -> ReadResult:
    """``result``, once its counts are consistent and its events have the canonical schema."""
    consistent(result)
    assert result.events.collect_schema() == ev.SCHEMA
    return result


def frame(result: ReadResult) -> pl.DataFrame:
    """The events of a read (always a DataFrame here: nothing is spilled)."""
    assert isinstance(result.events, pl.DataFrame)
    return result.events


def loaded_or_reported(
    read: Read,
    name: str,
    records: list[tuple[str, str]],
    layout: str,
    windows: bool,
    rnd: random.Random,
) -> ReadResult:
    """Write ``(kind, text)`` records in a random order; check each is loaded or reported once.

    A strict read fails exactly when a record is bad, naming the first bad one's line;
    a lenient read (returned) quarantines every bad one, at its line, verbatim.
    """
    if layout == "array":  # an element that is not JSON ends an array (tested in _base)
        records = [r for r in records if r[0] != "invalid JSON"]
    rnd.shuffle(records)
    if layout == "lines":  # a first line '[…]' would make the file a JSON array
        first = next((k for k, r in enumerate(records) if r[0] != "not an object"), 0)
        records.insert(0, records.pop(first))
    wrong = [k for k, (kind, _) in enumerate(records) if kind != "good"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        lines = write(path, [t for _, t in records], layout, windows=windows)
        try:
            strict = read([path])
        except ev.EventsError as exc:
            assert wrong, f"a good file was refused: {exc}"
            assert str(exc).startswith(f"{path}:{lines[wrong[0]]}: ") and "\n" not in str(exc)
        else:
            assert not wrong
            assert strict.records_read == len(records)
        result = read([path], on_error="skip")
    assert result.records_read == len(records)
    got = sorted((s.line, s.record) for s in result.skipped)
    assert got == [(lines[k], records[k][1]) for k in wrong]
    return result


def reported_after_array(read: Read, texts: list[str], extra: str, blank: int = 0) -> ReadResult:
    """A JSON array of ``texts`` with ``extra`` after its ``]`` (``blank`` lines between).

    What follows the array is one bad record at its line, in both modes; the lenient
    read (returned) keeps the array's records.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.json"
        lines = write(path, texts, "array")
        with path.open("a") as fh:
            fh.write("\n" * blank + extra + "\n")
        at = lines[-1] + 2 + blank
        try:
            read([path])
        except ev.EventsError as exc:
            assert str(exc).startswith(f"{path}:{at}: invalid JSON (extra data after")
        else:
            raise AssertionError("data after the array was dropped unseen")
        result = read([path], on_error="skip")
    assert [(s.line, s.record) for s in result.skipped] == [(at, extra)]
    return result
