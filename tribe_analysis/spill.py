"""Out of core: canonical events validated and completed a file at a time, spilled to Parquet.

:func:`tribe_analysis.events.read_events` holds every event in memory, with
every column, while it checks and completes them (about 250 bytes an event at
its peak). :func:`spill_events` does the same checks and derivations and gives
the same events, but holds only what must be seen at once:

1. each file is read, typed and checked row by row on its own, and written to
   the spill folder (``typed-K.parquet``); only its ``event_id``, ``parent_id``
   and ``actor_id`` (and line numbers) stay in memory;
2. over those ids of all files: repeated ``event_id`` values, parent links,
   threads by pointer jumping, cycles and over-deep chains
   (:func:`tribe_analysis.threads._links`);
3. each file is read back, completed (``thread_id``, ``target_actor_id``) from
   its rows' links, conformed, and written as ``events-K.parquet``.

The result is a :class:`polars.LazyFrame` over the completed files that every
later stage of :func:`tribe_analysis.pipeline.profile` scans (the streaming
engine reads only the columns a stage needs). Problems are the same
``FILE:LINE: reason`` as :func:`~tribe_analysis.events.read_events` gives.
Rows stay in input order (the in-memory reader sorts them by time); no measure
depends on row order (``tests/test_spill.py`` holds the outputs equal).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from tribe_analysis import events as ev
from tribe_analysis.errors import _LINE, EventsError, Problem, io_reason
from tribe_analysis.threads import MAX_THREAD_DEPTH, _derivation_problems, _filled, _links

__all__ = [
    "BYTES_PER_EVENT",
    "CGROUP_LIMITS",
    "SpilledEvents",
    "estimated_events",
    "memory_limit",
    "needs_spill",
    "spill_events",
]

BYTES_PER_EVENT = 250
"""Peak memory of the in-memory ``profile`` per event (``docs/performance.md``)."""

_IDS = ("event_id", "parent_id", "actor_id")
"""The columns held in memory for all events at once (with the line numbers)."""

_TEXT_BYTES_PER_EVENT = 100
"""Rough size of one event in a CSV or NDJSON file (for :func:`estimated_events`)."""


@dataclass(frozen=True)
class SpilledEvents:
    """Validated, completed events in Parquet files.

    Attributes
    ----------
    frame : polars.LazyFrame
        Canonical events (:data:`tribe_analysis.events.SCHEMA`) over ``files``.
    files : list of Path
        The completed files, one per input file, in input order.
    height : int
        Number of events.
    first, last : datetime or None
        First and last event time.
    """

    frame: pl.LazyFrame
    files: list[Path]
    height: int
    first: datetime | None
    last: datetime | None


def estimated_events(paths: Iterable[str | Path], format: str | None = None) -> int:
    """Number of events in canonical files: exact for Parquet (footers), estimated for text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.parquet"
    >>> pl.DataFrame({"event_id": ["a", "b"]}).write_parquet(path)
    >>> estimated_events([path])
    2
    """
    total = 0
    for path in map(Path, paths):
        try:
            if ev._format_of(path, format) == "parquet":
                total += pl.scan_parquet(path).select(pl.len()).collect().item()
            else:
                total += path.stat().st_size // _TEXT_BYTES_PER_EVENT
        except Exception:  # noqa: BLE001 - the reader names an unreadable file properly
            continue
    return total


CGROUP_LIMITS: tuple[str, ...] = (
    "/sys/fs/cgroup/memory.max",  # cgroup v2
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
)
"""Files that hold the memory limit of a container or batch job, where there is one."""


def memory_limit() -> int:
    """Bytes this process may use: the machine's memory, or its container's limit if lower.

    A container (Docker, Kubernetes) or an HPC batch job may allow far less than the
    machine has; the limit is read from the cgroup files of :data:`CGROUP_LIMITS`.

    Examples
    --------
    >>> memory_limit() > 0
    True
    """
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for name in CGROUP_LIMITS:
        try:
            text = Path(name).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return total


def needs_spill(events: int, memory: int | None = None) -> bool:
    """Whether ``events`` would take more than half of ``memory`` (default: :func:`memory_limit`).

    Examples
    --------
    >>> needs_spill(10_000_000, memory=24 * 2**30), needs_spill(100_000_000, memory=24 * 2**30)
    (False, True)
    """
    if memory is None:
        memory = memory_limit()
    return events * BYTES_PER_EVENT > memory // 2


def spill_events(
    paths: str | Path | Iterable[str | Path],
    folder: str | Path,
    *,
    format: str | None = None,
    max_depth: int = MAX_THREAD_DEPTH,
    progress: bool = False,
) -> SpilledEvents:
    r"""Read, validate and complete canonical events a file at a time, into ``folder``.

    Parameters
    ----------
    paths : path or iterable of paths
        Canonical events files, as for :func:`tribe_analysis.events.read_events`.
    folder : str or Path
        An existing folder for the spilled files (the caller removes it).
    format : {"csv", "parquet", "ndjson"}, optional
        Force one format for all files.
    max_depth : int
        Longest ``parent_id`` chain followed.
    progress : bool
        Show progress bars over the files on stderr (on a terminal only).

    Returns
    -------
    SpilledEvents

    Raises
    ------
    EventsError
        With every problem found, as :func:`~tribe_analysis.events.read_events` does.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "a.csv").write_text("event_id,timestamp,actor_id,action,parent_id\n"
    ...                                "p,2024-01-01T10:00:00Z,ann,post,\n")
    >>> _ = (tmp / "b.csv").write_text("event_id,timestamp,actor_id,action,parent_id\n"
    ...                                "r,2024-01-01T10:05:00Z,bob,reply,p\n")
    >>> spilled = spill_events([tmp / "a.csv", tmp / "b.csv"], tmp)
    >>> spilled.height, spilled.frame.select("event_id", "thread_id", "target_actor_id").collect().rows()
    (2, [('p', 'p', None), ('r', 'p', 'ann')])
    """
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not files:
        raise ValueError("no input files given")
    written: list[Path] = []
    try:
        return _spill(files, Path(folder), format, max_depth, written, progress)
    except BaseException:  # a failed read leaves nothing of its own in ``folder``
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _spill(
    paths: list[Path],
    folder: Path,
    format: str | None,
    max_depth: int,
    written: list[Path],
    progress: bool,
) -> SpilledEvents:
    """:func:`spill_events`; every file it writes is added to ``written`` first."""
    typed, ids, spans, problems = _typed_files(
        _bar(paths, "reading", progress), folder, format, written
    )
    problems += ev._duplicate_problems(ids, spans)
    if problems:
        raise EventsError(problems)
    ids = ids.drop(_LINE) if ids.height else ids
    parent_idx, ptr, stuck, cyc, deep = _links(ids, max_depth)
    if cyc.size or deep.size:
        raise EventsError(
            _derivation_problems(ids, cyc, deep, max_depth, _where_from_files(typed, spans))
        )
    files = _completed(typed, spans, ids, parent_idx, ptr, stuck, folder, written, progress)
    del ids, parent_idx, ptr, stuck
    frame = pl.scan_parquet(files)
    ts = pl.col("timestamp")
    first, last = frame.select(ts.min().alias("first"), ts.max().alias("last")).collect().row(0)
    return SpilledEvents(frame, files, sum(n for _, _, n in spans), first, last)


def _bar(items: Iterable, desc: str, progress: bool, total: int | None = None) -> Iterable:
    """``items`` with a progress bar on stderr (shown on a terminal only, with ``progress``)."""
    from tqdm import tqdm

    return tqdm(
        items, desc=desc, unit="file", total=total, disable=not progress or None, leave=False
    )


def _typed_files(
    paths: Iterable[Path], folder: Path, format: str | None, written: list[Path]
) -> tuple[list[Path], pl.DataFrame, list[tuple[str, str, int]], list[Problem]]:
    """Step 1: each file typed, checked and written; the ids of all, their spans, the problems."""
    problems: list[Problem] = []
    typed_files: list[Path] = []
    ids: list[pl.DataFrame] = []
    spans: list[tuple[str, str, int]] = []
    for path in paths:
        try:
            raw, unit, bad = _raw(path, format)
        except EventsError as exc:
            problems += exc.problems
            continue
        problems += bad
        source = str(path)
        if raw.height == 0:
            if not bad:
                problems.append(Problem(source, None, "no events (the input has no rows)"))
            continue
        typed, column_problems = ev._typed(raw, source, unit)
        raw = None  # type: ignore[assignment]  # let go of the raw frame before the checks
        problems += column_problems
        if column_problems:
            continue
        problems += ev._row_problems(typed, source, unit)
        # parent_id is optional: a file without the column has posts only (no parent ids)
        ids.append(
            typed.select(
                *(c if c in typed.columns else pl.lit(None, pl.String).alias(c) for c in _IDS),
                _LINE,
            )
        )
        spans.append((source, unit, typed.height))
        if not problems:  # else nothing will be completed: only the checks go on
            target = folder / f"typed-{len(typed_files)}.parquet"
            written.append(target)
            _write(typed, target)
            typed_files.append(target)
    schema = {**{c: pl.String for c in _IDS}, _LINE: pl.UInt32}
    frame = pl.concat(ids, how="vertical_relaxed") if ids else pl.DataFrame(schema=schema)
    ids.clear()  # the combined frame alone holds the chunks: each goes once copied
    return typed_files, ev._one_chunk(frame), spans, problems


def _raw(path: Path, format: str | None) -> tuple[pl.DataFrame, str, list[Problem]]:
    """One file as-is with its ``__line`` numbers, its line unit and its malformed records."""
    fmt = ev._format_of(path, format)
    if fmt == "parquet":
        raw, unit = ev._read_raw(path, fmt)
        return raw, unit, []
    ev._check_file(path)
    raw, _, bad = ev._read_text(path, fmt, lenient=False)
    return raw, "line", bad


def _where_from_files(typed: list[Path], spans: list[tuple[str, str, int]]) -> pl.DataFrame:
    """Source, line and unit of every row (read back from the typed files)."""
    lines = pl.concat([pl.read_parquet(path, columns=[_LINE]) for path in typed])
    return ev._where(lines.get_column(_LINE), spans)


def _completed(
    typed: list[Path],
    spans: list[tuple[str, str, int]],
    ids: pl.DataFrame,
    parent_idx: pl.Series,
    ptr: np.ndarray,
    stuck: np.ndarray,
    folder: Path,
    written: list[Path],
    progress: bool = False,
) -> list[Path]:
    """Step 3: each typed file completed from its rows' links and written; the typed ones removed."""
    files = []
    start = 0
    pairs = _bar(zip(typed, spans, strict=True), "completing", progress, len(typed))
    for k, (path, (_, _, n)) in enumerate(pairs):
        part = pl.read_parquet(path)
        part = part.with_columns(pl.col("__raw_action").cast(ev.ACTION_DTYPE).alias("action"))
        keep = [c for c in part.columns if not c.startswith("__")]
        part = ev.conform(part.select(keep), platform="events")
        rows = slice(start, start + n)
        part = _filled(part, parent_idx.slice(start, n), ptr[rows], stuck[rows], ids)
        target = folder / f"events-{k}.parquet"
        written.append(target)
        _write(part, target)
        files.append(target)
        path.unlink()
        start += n
    return files


def _write(frame: pl.DataFrame, path: Path) -> None:
    """Write a spilled file; a failure is an OSError naming it and the system's reason.

    Polars reports a full disk as ``ComputeError(... (os error 28))``: it becomes
    ``OSError(28, "cannot write the events read out of core (No space left on
    device)", path)``, one line for the command line.
    """
    try:
        frame.write_parquet(path, compression="lz4", statistics=False)
    except Exception as exc:
        reason = io_reason(exc)
        if reason is None:
            raise
        number = exc.errno if isinstance(exc, OSError) and exc.errno else 0
        raise OSError(
            number, f"cannot write the events read out of core ({reason})", str(path)
        ) from None
