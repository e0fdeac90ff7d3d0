"""Canonical events files (CSV, Parquet, NDJSON) as a platform reader.

Strict mode is :func:`tribe_analysis.events.read_events`. In skip mode every row
with a problem (and every line that is not UTF-8 or not JSON) is quarantined
verbatim and the rest is loaded; problems with a whole file (a missing column,
an empty or unreadable file) still stop the read, since no record can be kept.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from tribe_analysis import events as ev
from tribe_analysis.io._base import ReadResult, Skipped

__all__ = ["NAME", "OBSERVABILITY", "read", "sniff"]

NAME = "events"
OBSERVABILITY = {"post": True, "reply": True, "share": True, "reaction": True}
_LINE = "__line"


def sniff(path: Path) -> bool:
    """A canonical file: known suffix and the required columns in its header."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix not in ev.FORMATS:
        return False
    try:
        if ev.FORMATS[suffix] == "parquet":
            names = pl.read_parquet_schema(path).keys()
        else:
            with path.open("rb") as fh:
                first = fh.readline(65536).decode("utf-8", "replace")
            if ev.FORMATS[suffix] == "csv":
                names = [c.strip().strip('"') for c in first.split(",")]
            else:
                names = json.loads(first).keys()
    except Exception:  # noqa: BLE001 - sniffing must never fail
        return False
    return all(c in names for c in ev.REQUIRED_COLUMNS)


def read(paths: Sequence[Path], *, on_error: str = "strict") -> ReadResult:
    """Read canonical events files; see the module docstring for ``on_error``."""
    paths = [Path(p) for p in paths]
    if on_error == "strict":
        events = ev.read_events(paths)
        return ReadResult(events, NAME, dict(OBSERVABILITY), events.height, events.height, [])
    if on_error != "skip":
        raise ValueError(f"on_error must be 'strict' or 'skip', got {on_error!r}")
    parts: list[tuple[pl.DataFrame, str, str]] = []
    texts: dict[str, list[str]] = {}
    skipped: list[Skipped] = []
    fatal: list[ev.Problem] = []
    for path in paths:
        try:
            raw, unit, lines, bad = _read_lenient(path)
        except ev.EventsError as exc:
            fatal += exc.problems
            continue
        skipped += bad
        texts[str(path)] = lines
        parts.append((raw, str(path), unit))
    if fatal:
        raise ev.EventsError(fatal)
    records = sum(p[0].height for p in parts) + len(skipped)
    for _ in range(8):  # dropping rows can expose new problems (e.g. a parent chain)
        events, problems = ev._check_parts(parts, ev.MAX_THREAD_DEPTH)
        if not problems:
            break
        whole = [
            p
            for p in problems
            if p.line is None
            or (p.unit == "line" and p.line == 1 and p.source.lower().endswith(".csv"))
        ]
        if whole:
            raise ev.EventsError(whole)
        drop: dict[str, set[int]] = {}
        for p in problems:
            drop.setdefault(p.source, set()).add(p.line)
            skipped.append(Skipped(p.source, p.line, p.reason, _record_text(p, texts, parts)))
        parts = [
            (frame.filter(~pl.col(_LINE).is_in(sorted(drop.get(source, ())))), source, unit)
            for frame, source, unit in parts
        ]
    if events is None:
        raise ev.EventsError([ev.Problem(", ".join(map(str, paths)), None, "no valid events left")])
    events = ev.sort_events(events)
    return ReadResult(events, NAME, dict(OBSERVABILITY), records, events.height, skipped)


def _read_lenient(path: Path) -> tuple[pl.DataFrame, str, list[str], list[Skipped]]:
    """Read a file, quarantining lines that are not UTF-8 (CSV, NDJSON) or not JSON (NDJSON)."""
    fmt = ev._format_of(path, None)
    if fmt == "parquet" or not path.is_file():
        raw, unit = ev._read_raw(path, fmt)
        return raw, unit, [], []
    if path.stat().st_size == 0:
        raise ev.EventsError([ev.Problem(str(path), 1, "empty file (no header, no events)")])
    kept: list[bytes] = []
    numbers: list[int] = []
    texts: list[str] = [""]
    bad: list[Skipped] = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            texts.append(text)
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad.append(Skipped(str(path), number, ev.not_utf8(line, exc)[1], text))
                continue
            if fmt == "ndjson":
                if not line.strip():
                    continue
                try:
                    if not isinstance(json.loads(line), dict):
                        raise ValueError("expected a JSON object on each line")
                except (json.JSONDecodeError, ValueError) as exc:
                    reason = f"invalid JSON ({getattr(exc, 'msg', str(exc))})"
                    bad.append(Skipped(str(path), number, reason, text))
                    continue
            kept.append(line if line.endswith(b"\n") else line + b"\n")
            numbers.append(number)
    data = io.BytesIO(b"".join(kept))
    if fmt == "csv":
        frame = pl.read_csv(data, infer_schema=False, raise_if_empty=False)
        line_numbers = numbers[1 : frame.height + 1]
    else:
        frame = pl.read_ndjson(data, infer_schema_length=None) if kept else pl.DataFrame()
        line_numbers = numbers[: frame.height]
    frame = frame.with_columns(pl.Series(_LINE, line_numbers, dtype=pl.UInt32))
    return frame, "line", texts, bad


def _record_text(problem: ev.Problem, texts: dict[str, list[str]], parts) -> str:
    lines = texts.get(problem.source) or []
    if problem.unit == "line" and problem.line is not None and problem.line < len(lines):
        return lines[problem.line]
    for frame, source, _ in parts:  # Parquet: the row as JSON
        if source == problem.source:
            row = frame.filter(pl.col(_LINE) == problem.line).drop(_LINE)
            if row.height:
                return json.dumps(row.row(0, named=True), default=str, sort_keys=True)
    return ""
