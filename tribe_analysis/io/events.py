"""Canonical events files (CSV, Parquet, NDJSON) as a platform reader.

Strict mode is :func:`tribe_analysis.events.read_events`. In skip mode every
record with a problem is quarantined verbatim, once, with all its reasons: a line
that is not UTF-8, not JSON or holds a value of the wrong type, a CSV record with
the wrong number of fields or a stray or unclosed quote, a record over the size
limit, a row that fails validation, the records of a ``parent_id`` cycle. The rest
is loaded. Problems with a whole file (a missing column, an empty or unreadable
file) still stop the read, since no record of it can be kept.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from tribe_analysis import _textscan
from tribe_analysis import events as ev
from tribe_analysis.io._base import ReadResult, Skipped, cycle_members

__all__ = ["NAME", "OBSERVABILITY", "read", "sniff"]

NAME = "events"
OBSERVABILITY = {"post": True, "reply": True, "share": True, "reaction": True}
_LINE = "__line"


def sniff(path: Path) -> bool:
    """A canonical file: known suffix and the required columns in its header (or first line)."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix not in ev.FORMATS:
        return False
    try:
        if ev.FORMATS[suffix] == "parquet":
            names = list(pl.read_parquet_schema(path))
        else:
            lines = _first_lines(path)
            if ev.FORMATS[suffix] == "csv":
                names = [c.strip() for c in next(csv.reader(lines[:1]))]
            else:  # the first line that is a JSON object (a bad first line is only a bad record)
                names = next(_json_keys(line) for line in lines if _json_keys(line))
    except Exception:  # noqa: BLE001 - sniffing must never fail
        return False
    return all(c in names for c in ev.REQUIRED_COLUMNS)


_SNIFF_LINES = 6
_SNIFF_LINE_BYTES = 16 * 2**20


def _first_lines(path: Path) -> list[str]:
    r"""The file's first non-blank lines (up to 6, each up to 16 MiB), split at ``\n`` only.

    :meth:`str.splitlines` would also split at U+2028, U+0085 and other characters
    a JSON string holds as they are (an id with one made the file unrecognised).
    """
    lines: list[str] = []
    with path.open("rb") as fh:
        while len(lines) < _SNIFF_LINES:
            raw = fh.readline(_SNIFF_LINE_BYTES)
            if not raw:
                break
            line = raw.decode("utf-8", "replace").removeprefix("\ufeff").rstrip("\r\n")
            if line.strip():
                lines.append(line)
    return lines


def _json_keys(line: str) -> list[str]:
    try:
        value = json.loads(line)
    except ValueError:
        return []
    return list(value) if isinstance(value, dict) else []


def read(
    paths: Sequence[Path], *, on_error: str = "strict", spill: str | Path | None = None
) -> ReadResult:
    """Read canonical events files; see the module docstring for ``on_error``.

    With ``spill`` (a folder; strict only) the files are read out of core
    (:func:`tribe_analysis.spill.spill_events`): ``events`` is then a lazy frame
    over the completed files in ``spill``.
    """
    paths = [Path(p) for p in paths]
    if spill is not None:
        if on_error != "strict":
            raise ValueError("events are read out of core in strict mode only")
        from tribe_analysis.spill import spill_events

        done = spill_events(paths, spill, progress=True)  # shown on a terminal only
        return ReadResult(done.frame, NAME, dict(OBSERVABILITY), done.height, done.height, [])
    if on_error == "strict":
        events = ev.read_events(paths)
        return ReadResult(events, NAME, dict(OBSERVABILITY), events.height, events.height, [])
    if on_error != "skip":
        raise ValueError(f"on_error must be 'strict' or 'skip', got {on_error!r}")
    parts: list[tuple[pl.DataFrame, str, str]] = []
    layouts: dict[str, tuple[Path, _textscan.Layout | None]] = {}
    skipped: list[Skipped] = []
    fatal: list[ev.Problem] = []
    for path in paths:
        try:
            raw, unit, layout, bad = _read_lenient(path)
        except ev.EventsError as exc:
            fatal += exc.problems
            continue
        layouts[str(path)] = (path, layout)
        skipped += [
            Skipped(p.source, p.line, p.reason, _record_text(p.source, p.line, layouts))
            for p in bad
        ]
        if raw.height or not bad:  # a file whose every record is bad adds no rows
            parts.append((raw, str(path), unit))
    if fatal:
        raise ev.EventsError(fatal)
    records = sum(p[0].height for p in parts) + len(skipped)
    events = ev.empty_events().with_columns(pl.lit(NAME).alias("platform"))
    while parts:  # dropping rows can expose new problems (e.g. a duplicate's first copy gone)
        found, problems = ev._check_parts(parts, ev.MAX_THREAD_DEPTH)
        if not problems:
            assert found is not None  # parts without problems give events
            parts.clear()  # the events alone hold the data: sorted a column at a time
            events, found = ev._sorted_owned(found), None
            break
        whole = [p for p in problems if _whole(p)]
        if whole:
            raise ev.EventsError(whole)
        problems = _without_cycle_feeders(problems, parts)
        reasons: dict[tuple[str, int | None], list[str]] = {}
        for p in problems:  # one record with several problems is quarantined once
            reasons.setdefault((p.source, p.line), []).append(p.reason)
        texts = {key: _record_text(*key, layouts) for key in reasons}  # text files' lines
        # the other records (Parquet rows) as JSON: one pass per file, not one per record
        texts |= _rows_as_json(parts, [key for key, text in texts.items() if not text])
        for (source, line), why in reasons.items():
            text = texts.get((source, line), "")
            skipped.append(Skipped(source, line, "; ".join(dict.fromkeys(why)), text))
        parts = [
            (
                frame.filter(~pl.col(_LINE).is_in([ln for s, ln in reasons if s == source])),
                source,
                unit,
            )
            for frame, source, unit in parts
        ]
        parts = [part for part in parts if part[0].height]
    order = {str(p): k for k, p in enumerate(paths)}
    skipped.sort(key=lambda s: (order.get(s.source, len(order)), s.line or 0))
    return ReadResult(events, NAME, dict(OBSERVABILITY), records, events.height, skipped)


def _without_cycle_feeders(problems: list[ev.Problem], parts) -> list[ev.Problem]:
    """Drop cycle problems of rows that only reply into a cycle: they load once it is gone."""
    cycle = {(p.source, p.line) for p in problems if p.reason.startswith(_CYCLE)}
    if not cycle:
        return problems
    where: dict[str, tuple[str, int]] = {}
    links: dict[str, str] = {}
    for frame, source, _ in parts:
        lines = [line for s, line in cycle if s == source]
        rows = frame.filter(pl.col(_LINE).is_in(lines)).select(
            pl.col("event_id").cast(pl.String), pl.col("parent_id").cast(pl.String), _LINE
        )
        for eid, pid, line in rows.iter_rows():
            links[eid] = pid
            where[eid] = (source, line)
    members = {where[eid] for eid in cycle_members(links)}
    return [p for p in problems if not p.reason.startswith(_CYCLE) or (p.source, p.line) in members]


_CYCLE = "parent_id chain forms a cycle"


def _whole(problem: ev.Problem) -> bool:
    """A problem with a whole file (no line, or a CSV header), which stops both modes."""
    header = (
        problem.unit == "line" and problem.line == 1 and problem.source.lower().endswith(".csv")
    )
    return problem.line is None or header


def _read_lenient(
    path: Path,
) -> tuple[pl.DataFrame, str, _textscan.Layout | None, list[ev.Problem]]:
    """A file's rows with their ``__line``, where its records are, and its unreadable records."""
    fmt = ev._format_of(path, None)
    if fmt == "parquet":
        raw, unit = ev._read_raw(path, fmt)
        return raw, unit, None, []
    ev._check_file(path)
    raw, layout, bad = ev._read_text(path, fmt, lenient=True)
    return raw, "line", layout, bad


def _record_text(source: str, line: int | None, layouts: dict) -> str:
    """The verbatim text lines of the record at ``line`` of a text file ("" if none).

    A Parquet record is quoted as JSON instead (:func:`_rows_as_json`).
    """
    path, layout = layouts.get(source, (None, None))
    if layout is not None and line is not None:
        index = int(np.searchsorted(layout.lines, line))
        if index < layout.lines.size and layout.lines[index] == line:
            return _textscan.record_text(path, layout, index)
    return ""


def _rows_as_json(
    parts: list[tuple[pl.DataFrame, str, str]], wanted: list[tuple[str, int | None]]
) -> dict[tuple[str, int | None], str]:
    """The rows at the ``(source, line)`` keys of ``wanted``, each as JSON (a Parquet record).

    Every file's rows are picked in one filter (a filter per record made
    quarantining grow with records times rows: 1% bad rows of 1M took 8 s).
    """
    lines: dict[str, list[int]] = {}
    for source, line in wanted:
        if line is not None:
            lines.setdefault(source, []).append(line)
    texts: dict[tuple[str, int | None], str] = {}
    for frame, source, _ in parts:
        if source not in lines:
            continue
        picked = frame.filter(pl.col(_LINE).is_in(lines[source]))
        numbers = picked.get_column(_LINE).to_list()
        for number, row in zip(numbers, _python_rows(picked.drop(_LINE)), strict=True):
            texts[(source, number)] = json.dumps(row, default=str, sort_keys=True)
    return texts


def _python_rows(rows: pl.DataFrame) -> list[dict]:
    """Parquet rows as Python values (see :func:`_python_row`), all at once when they allow."""
    try:
        return rows.rows(named=True)
    except (OverflowError, ValueError):
        return [_python_row(rows.slice(k, 1)) for k in range(rows.height)]


def _python_row(row: pl.DataFrame) -> dict:
    """A Parquet row as Python values; a time Python cannot hold (after the year 9999) as text."""
    try:
        return row.row(0, named=True)
    except (OverflowError, ValueError):
        times = pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
        return row.with_columns(times).row(0, named=True)
