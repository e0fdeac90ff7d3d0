"""What the JSON readers (Twitter, Reddit, Mastodon) share: layouts, typed fields, rows.

A JSON export is JSON lines, a JSON array, or one pretty-printed object
(:func:`_json_records` reads all three, reporting bad JSON to the sink). Field
access is typed: a value of the wrong JSON type raises :class:`RecordError`
naming the field, so its record is reported, never re-typed. :func:`_row` makes
one event row located at its record, and :func:`_add_record` counts a record and
adds the row built from it (a RecordError skips the record whole).

Examples
--------
>>> _opt_id({"id": 42}, "id")
'42'
>>> _json_type([1])
'array'
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from tribe_analysis import events as ev
from tribe_analysis.errors import RecordError, json_reason
from tribe_analysis.io._base import (
    _HEAD,
    MAX_RECORD_BYTES,
    Sink,
    iter_json_array,
    iter_json_lines,
    too_long,
    truncated,
    utc_error,
)

_SNIFF_LIMIT = MAX_RECORD_BYTES
"""Longest first record (one line, or a first array element) read by ``sniff``."""
_JSON_SPACE = " \t\r\n"


def _layout(head: bytes) -> str:
    """``lines``, ``array`` or ``document`` (one pretty-printed object) from a file's start."""
    text = head.lstrip(b"\xef\xbb\xbf" + _JSON_SPACE.encode())
    if text.startswith(b"["):
        return "array"
    first, _, rest = text.partition(b"\n")
    if first.strip() != b"{":
        return "lines"
    # a lone "{" opens a pretty-printed object, whose next line is a key ('"id": ...');
    # a next line that is an object itself makes this JSON lines with a cut-off first record
    second = next((line.strip() for line in rest.split(b"\n") if line.strip()), b"")
    return "lines" if second.startswith(b"{") else "document"


def _skip_space(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _JSON_SPACE:
        i += 1
    return i


def _json_records(path: Path, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    """Yield ``(line, raw text, object)`` for each JSON object of a file.

    JSON lines go through :func:`iter_json_lines`, a JSON array through
    :func:`iter_json_array` (each element reported at the line it starts on; both
    read the file in pieces). A single pretty-printed object is one record at
    line 1, read whole only up to :data:`MAX_RECORD_BYTES`. Bad JSON is reported to
    ``sink``; after a syntax error inside an array or document nothing further of
    that file can be read.
    """
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    layout = _layout(head)
    if layout == "lines":
        yield from iter_json_lines(path, sink)
        return
    if layout == "array":
        for line, raw, value in iter_json_array(path, sink, "objects"):
            if isinstance(value, dict):
                yield line, raw, value
            else:
                sink.reject(path, line, "expected a JSON object in the array", raw)
        return
    with path.open("rb") as fh:
        data = fh.read(MAX_RECORD_BYTES + 1)
    if len(data) > MAX_RECORD_BYTES:
        size = max(len(data), path.stat().st_size)
        sink.reject(path, 1, f"{too_long(size)} (one JSON document)", truncated(data, size))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, reason = ev.not_utf8(data, exc)
        sink.reject(
            path, line, f"{reason} (whole document skipped)", data.decode("utf-8", "replace")
        )
        return
    text = text.removeprefix("\ufeff")
    start = _skip_space(text, 0)
    try:
        obj, end = json.JSONDecoder().raw_decode(text, start)
        if _skip_space(text, end) != len(text):
            raise json.JSONDecodeError("Extra data", text, _skip_space(text, end))
    except json.JSONDecodeError as exc:
        sink.reject(path, exc.lineno, json_reason(exc.msg, f"column {exc.colno}"), text)
        return
    except (ValueError, RecursionError) as exc:
        sink.reject(path, 1, f"invalid JSON ({exc})", text)
        return
    if not isinstance(obj, dict):
        sink.reject(path, 1, "expected a JSON object", text)
        return
    yield text.count("\n", 0, start) + 1, text[start:].rstrip(), obj


def _first_json_object(path: Path) -> dict | None:
    """The first JSON object of a file (a line, an array element or the document), or None.

    Reads the first 64 KB, more only when the first record is longer (up to 16 MB);
    never raises.
    """
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
            layout = _layout(head)
            if layout == "lines":
                fh.seek(0)
                raw = b""
                while not raw.strip():
                    raw = fh.readline(_SNIFF_LIMIT)
                    if not raw:
                        return None
                    if len(raw) >= _SNIFF_LIMIT:
                        return None
                obj = json.loads(raw.decode("utf-8").removeprefix("\ufeff"))
            else:
                data = head if len(head) < _HEAD else head + fh.read(_SNIFF_LIMIT)
                text = data.decode("utf-8", "ignore").lstrip("\ufeff" + _JSON_SPACE)
                decoder = json.JSONDecoder()
                if layout == "array":
                    obj, _ = decoder.raw_decode(text, _skip_space(text, 1))
                else:
                    obj, _ = decoder.raw_decode(text, 0)
    except (OSError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _opt_id(obj: Mapping, *names: str, where: str = "") -> str | None:
    """The first of ``names`` present and not null, as a string id; wrong types raise."""
    for name in names:
        value = obj.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise RecordError(
            f"{where}{name} must be a string id, got {_json_type(value)} {_short_json(value)}"
        )
    return None


def _req_id(obj: Mapping, *names: str, where: str = "") -> str:
    value = _opt_id(obj, *names, where=where)
    if value is None:
        raise RecordError(f"missing {where}{names[0]}")
    return value


def _obj(parent: Mapping, name: str, *, where: str = "") -> dict | None:
    """A nested object field (None when absent or null); other types raise."""
    value = parent.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(f"{where}{name} must be an object, got {_json_type(value)}")
    return value


def _list(parent: Mapping, name: str, *, where: str = "") -> list:
    value = parent.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{where}{name} must be an array, got {_json_type(value)}")
    return value


def _as_list(value: object) -> list:
    """``value`` if it is a list, else empty (for tolerant look-ups)."""
    return value if isinstance(value, list) else []


def _opt_text(parent: Mapping, name: str, *, where: str = "") -> str | None:
    value = parent.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{where}{name} must be a string, got {_json_type(value)}")
    return value


def _short_json(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _iso_time(obj: Mapping, name: str, *, hint: str = "") -> datetime:
    """An ISO-8601 timestamp with ``Z`` or an offset, as an aware UTC datetime."""
    value = obj.get(name)
    if value is None:
        raise RecordError(f"missing {name}{hint}")
    if not isinstance(value, str):
        raise RecordError(f"{name} must be ISO-8601 text, got {_json_type(value)} {value!r}")
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(
            f"unparseable {name} {value!r} (expected ISO-8601, e.g. 2024-05-01T12:00:00.000Z)"
        ) from None
    if stamp.tzinfo is None:
        raise RecordError(f"{name} {value!r} has no time zone (expected Z or an offset)")
    try:
        return stamp.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:30:00+01:00 is before year 1 in UTC
        raise utc_error(name, value) from None


def _epoch_time(obj: Mapping, name: str) -> datetime:
    """Epoch seconds (number or numeric text) as an aware UTC datetime."""
    value = obj.get(name)
    if value is None:
        raise RecordError(f"missing {name}")
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise RecordError(f"unparseable {name} {value!r} (expected epoch seconds)") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float (JSON allows 1000 digits)
            raise RecordError(f"{name} {value!r:.40} is out of range") from None
    else:
        raise RecordError(f"{name} must be epoch seconds, got {_json_type(value)} {value!r}")
    if not math.isfinite(number):
        raise RecordError(f"{name} {value!r} is not a finite number of seconds")
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        raise RecordError(f"{name} {value!r} is out of range") from None


def _row(path: Path, line: int, raw: str, **fields: object) -> dict:
    """One event row with where its record came from; a record replying to itself raises."""
    if fields.get("parent_id") is not None and fields["parent_id"] == fields["event_id"]:
        raise RecordError(f"parent {fields['parent_id']!r} is the record's own id")
    fields.setdefault("mentions", [])
    return {**fields, "_source": str(path), "_line": line, "_raw": raw}


def _add_record(sink: Sink, path: Path, line: int, raw: str, row_of: Callable[[], dict]) -> None:
    """Count one record and add the event row ``row_of()`` builds from it.

    A :class:`RecordError` raised by ``row_of`` reports the record (``raw``, at
    ``path:line``) instead: the read stops (strict) or the record is quarantined (skip).
    """
    sink.record(path, line, raw, partial(_add, sink, row_of))


def _add(sink: Sink, row_of: Callable[[], dict]) -> None:
    sink.add(row_of())
