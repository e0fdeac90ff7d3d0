"""What every measure family starts from: the events in the period, the leaders, the window keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from tribe_analysis import events as ev

COLUMNS: tuple[str, ...] = tuple(c for c in ev.SCHEMA if c not in ("text", "platform"))
"""The event columns the measures read (``text`` and ``platform`` never are)."""

AUTHORED = ("post", "reply", "share")
"""Actions that author content (the ``authored`` count and the activity floor of leaders)."""

# Expressions over the leader's own events (they need the ``leader_id`` column).
REPLY = pl.col("action") == "reply"
POST = pl.col("action") == "post"
SHARE = pl.col("action") == "share"
SELF_TARGET = pl.col("target_actor_id").is_not_null() & (
    pl.col("target_actor_id") == pl.col("leader_id")
)
TO_OTHER = pl.col("target_actor_id").is_not_null() & ~SELF_TARGET
OTHERS_MENTIONED = pl.col("mentions").list.set_difference(pl.concat_list(pl.col("leader_id")))


@dataclass(frozen=True)
class Scope:
    """The scoped input of every measure family.

    Attributes
    ----------
    events : polars.DataFrame or polars.LazyFrame
        The events as given (reply depths are computed over all of them).
    lf : polars.LazyFrame
        The events in the period, the columns the measures read (and
        ``window_start`` when windowed).
    own : polars.LazyFrame
        The leaders' own events of ``lf``, with ``leader_id``.
    lead : polars.LazyFrame
        One ``leader_id`` column, the leaders.
    leaders : list of str
        The leader ids, sorted, without duplicates.
    by : list of str
        Window keys: ``[]`` or ``["window_start"]``.
    keys : list of str
        ``["leader_id", *by]``, the keys of every family's frame.
    """

    events: pl.DataFrame | pl.LazyFrame
    lf: pl.LazyFrame
    own: pl.LazyFrame
    lead: pl.LazyFrame
    leaders: list[str]
    by: list[str]
    keys: list[str]


def scope(
    events: pl.DataFrame | pl.LazyFrame,
    leaders: Sequence[str],
    every: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
) -> Scope:
    """Filter ``events`` to ``since <= timestamp < until``, add windows, pick the leaders' events."""
    leaders = sorted(set(leaders))
    lf = events.lazy()
    lo = None if since is None else _utc(since)
    hi = None if until is None else _utc(until)
    if lo is not None and hi is not None and lo >= hi:
        raise ValueError(f"since {since} is not before until {until}")
    if lo is not None:
        lf = lf.filter(pl.col("timestamp") >= lo)
    if hi is not None:
        lf = lf.filter(pl.col("timestamp") < hi)
    by: list[str] = []
    if every is not None:
        _check_every(every)
        lf = lf.with_columns(pl.col("timestamp").dt.truncate(every).alias("window_start"))
        by = ["window_start"]
    lead = pl.LazyFrame({"leader_id": leaders}, schema={"leader_id": pl.String})
    lf = lf.select(*COLUMNS, *by)
    own = lf.join(lead, left_on="actor_id", right_on="leader_id", how="semi").with_columns(
        pl.col("actor_id").alias("leader_id")
    )
    return Scope(
        events=events, lf=lf, own=own, lead=lead, leaders=leaders, by=by, keys=["leader_id", *by]
    )


def merge(keys: Sequence[str], *frames: pl.LazyFrame) -> pl.LazyFrame:
    """One frame keyed by ``keys`` from ``frames`` that share them (the union of their keys)."""
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on=list(keys), how="full", coalesce=True)
    return out


def _check_every(every: str) -> None:
    """Refuse a window length that is not a positive polars duration (one clear error)."""
    probe = pl.Series([datetime(2001, 1, 1, tzinfo=UTC)])
    try:
        later = probe.dt.offset_by(every).item()
    except (pl.exceptions.PolarsError, TypeError):
        later = None
    if later is None or later <= probe.item():
        raise ValueError(
            f"every={every!r} is not a positive duration (e.g. '1w', '1mo', '14d', '12h')"
        )


def _utc(value: datetime | date | str) -> datetime:
    """``value`` (a ``since`` or ``until``) as a UTC datetime, or one clear error."""
    if isinstance(value, str):
        text = value.strip()
        text = f"{text}T00:00:00Z" if len(text) == 10 else text
        stamp = pl.Series([text]).str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
        try:
            parsed = stamp.item()
        except (OverflowError, ValueError):  # polars holds it, Python's datetime does not
            raise ValueError(f"date {value!r} is out of range (years 1 to 9999 in UTC)") from None
        if parsed is None:
            raise ValueError(f"cannot parse date {value!r} (expected ISO-8601, e.g. 2024-05-01)")
        return parsed
    if not isinstance(value, date):
        raise TypeError(
            f"a date must be a datetime, a date or ISO-8601 text, not {type(value).__name__} "
            f"{value!r}"
        )
    if not isinstance(value, datetime):  # a day: its start in UTC, as the text '2024-05-01'
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"date {value!r} has no time zone (give UTC or an offset)")
    # the same instant in UTC: polars compares no UTC column with a named zone's literal
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 01:00+02:00 is in year 0 in UTC
        raise ValueError(
            f"date '{value.isoformat()}' is out of range (years 1 to 9999 in UTC)"
        ) from None
