"""What every platform reader shares: records in, canonical events out, nothing lost.

A reader turns *records* (one JSON line, one XML row, one e-mail) into canonical
events. Each record either becomes events or, when malformed, is reported:

- ``on_error="strict"`` (default): the first malformed record stops the read with
  :class:`tribe_analysis.events.EventsError` naming ``FILE:LINE: reason``;
- ``on_error="skip"``: the record is kept verbatim in :attr:`ReadResult.skipped`
  with its reason, and reading goes on. ``records_read == records_loaded +
  len(skipped)`` always holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tribe_analysis import events as ev

__all__ = [
    "ON_ERROR",
    "ReadResult",
    "RecordError",
    "Skipped",
    "Sink",
    "finish",
    "iter_json_lines",
]

ON_ERROR = ("strict", "skip")


class RecordError(ValueError):
    """A record is malformed; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Skipped:
    """One record that was not loaded: where it was, why, and its verbatim text."""

    source: str
    line: int | None
    reason: str
    record: str

    @property
    def problem(self) -> ev.Problem:
        """The same as a :class:`tribe_analysis.events.Problem`."""
        return ev.Problem(self.source, self.line, self.reason)


@dataclass
class Sink:
    """Collects event rows and skipped records while a reader walks its input.

    ``add`` takes one canonical row as a dict (``event_id``, ``timestamp`` as an
    aware ``datetime`` or ISO-8601 text, ``actor_id``, ``action``, optional
    ``parent_id``, ``thread_id``, ``target_actor_id``, ``mentions``, ``text``).
    """

    on_error: str = "strict"
    rows: list[dict] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    records: int = 0

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR:
            raise ValueError(
                f"on_error must be one of {', '.join(ON_ERROR)}, got {self.on_error!r}"
            )

    def add(self, row: Mapping) -> None:
        """Add one event row."""
        self.rows.append(dict(row))

    def bad(self, source: str | Path, line: int | None, reason: str, record: str) -> None:
        """Report a malformed record: raise (strict) or quarantine it (skip)."""
        skipped = Skipped(str(source), line, reason, record)
        if self.on_error == "strict":
            raise ev.EventsError([skipped.problem])
        self.skipped.append(skipped)

    def reject(self, source: str | Path, line: int | None, reason: str, record: str) -> None:
        """Count one malformed record and report it (see :meth:`bad`)."""
        self.records += 1
        self.bad(source, line, reason, record)

    def record(
        self, source: str | Path, line: int | None, raw: str, build: Callable[[], None]
    ) -> None:
        """Count one record and run ``build`` (which calls :meth:`add`); a RecordError skips it whole."""
        self.records += 1
        mark = len(self.rows)
        try:
            build()
        except RecordError as exc:
            del self.rows[mark:]
            self.bad(source, line, str(exc), raw)


def iter_json_lines(path: Path, sink: Sink) -> Iterator[tuple[int, str, dict]]:
    """Yield ``(line number, raw line, object)`` for each JSON object line of ``path``.

    Blank lines are ignored. Lines that are not UTF-8, not JSON, or not a JSON
    object are counted as records and reported to ``sink``.
    """
    with path.open("rb") as fh:
        for number, raw_bytes in enumerate(fh, start=1):
            if not raw_bytes.strip():
                continue
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                sink.reject(
                    path,
                    number,
                    ev.not_utf8(raw_bytes, exc)[1],
                    raw_bytes.decode("utf-8", "replace"),
                )
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                sink.reject(
                    path,
                    number,
                    f"invalid JSON ({exc.msg}, column {exc.colno})",
                    raw.rstrip("\n"),
                )
                continue
            if not isinstance(obj, dict):
                sink.reject(path, number, "expected a JSON object on each line", raw.rstrip("\n"))
                continue
            yield number, raw.rstrip("\n"), obj


@dataclass(frozen=True)
class ReadResult:
    """A reader's output.

    Attributes
    ----------
    events : polars.DataFrame
        Canonical events (:data:`tribe_analysis.events.SCHEMA`), threads and targets derived.
    platform : str
        Platform name (``twitter``, ``reddit``, ...).
    observability : dict
        Outgoing actions the platform exposes (``post``, ``reply``, ``share``,
        ``reaction`` -> bool); a measure built on a hidden signal is null.
    records_read, records_loaded : int
        Input records seen and loaded (``records_read == records_loaded + len(skipped)``).
    skipped : list of Skipped
        Records not loaded (``on_error="skip"``), with reasons and verbatim text.
    """

    events: pl.DataFrame
    platform: str
    observability: dict[str, bool]
    records_read: int
    records_loaded: int
    skipped: list[Skipped]


def finish(
    sink: Sink, platform: str, observability: Mapping[str, bool], *, sources: Sequence[str] = ()
) -> ReadResult:
    """Turn collected rows into canonical events.

    A row may carry ``_source``, ``_line`` and ``_raw`` (where its record came
    from). An ``event_id`` seen twice (overlapping exports) is kept once, in both
    modes, and the later record is reported in ``skipped`` with reason
    ``duplicate id``.
    """
    if not sink.rows and not sink.skipped:
        where = ", ".join(sources) or "input"
        raise ev.EventsError([ev.Problem(where, None, f"no {platform} records found")])
    if sink.rows:
        frame = pl.DataFrame(
            sink.rows,
            schema_overrides={"mentions": pl.List(pl.String)},
            infer_schema_length=None,
        )
        later = frame.filter(pl.int_range(pl.len()).over("event_id") > 0)
        seen: set[tuple] = set()
        for row in later.iter_rows(named=True):
            key = (row.get("_source"), row.get("_line"))
            if key not in seen:
                seen.add(key)
                sink.skipped.append(
                    Skipped(
                        str(row.get("_source") or "input"),
                        row.get("_line"),
                        f"duplicate id '{row['event_id']}' (kept once)",
                        row.get("_raw") or "",
                    )
                )
        frame = frame.unique("event_id", keep="first", maintain_order=True)
        frame = frame.drop([c for c in frame.columns if c.startswith("_")])
        if frame.schema["timestamp"] == pl.String:
            frame = frame.with_columns(
                pl.col("timestamp").str.to_datetime(time_zone="UTC", time_unit="us")
            )
        events = ev.complete_events(ev.conform(frame, platform=platform))
    else:
        events = ev.empty_events()
    return ReadResult(
        events=events.with_columns(pl.lit(platform).alias("platform")),
        platform=platform,
        observability=dict(observability),
        records_read=sink.records,
        records_loaded=sink.records - len(sink.skipped),
        skipped=sink.skipped,
    )
