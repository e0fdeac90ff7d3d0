"""Property tests of :func:`tribe_analysis.synth.simulate_tribe` over its period arguments.

Oracles: the documented promises (events in ``[start, start + days)``, canonical and
valid; a ValueError for an argument out of range) and the package's canonical
writer and reader (:func:`tribe_analysis.events.write_events` / ``read_events``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis.synth import simulate_tribe

FIRST = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
NAIVE = st.one_of(
    st.datetimes(min_value=datetime(9999, 12, 20)),
    st.datetimes(max_value=datetime(1, 1, 3)),
    st.datetimes(),
)
OFFSETS = st.none() | st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def _utc(moment: datetime) -> tuple[datetime | None, bool]:
    """``moment`` in UTC (naive is UTC), and whether it is before the year 1 in UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC), False
    try:
        return moment.astimezone(UTC), False
    except OverflowError:
        return None, True


def _end(start: datetime | None, days: float) -> datetime | None:
    """``start + days``, or None past the years datetime can hold."""
    if start is None or days > 10**7:
        return None
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    naive=NAIVE,
    offset=OFFSETS,
    days=st.floats(1e-3, 3.0) | st.floats(1e3, 1e300),
    seed=st.integers(0, 2**32 - 1),
)
@example(naive=datetime(9999, 12, 20), offset=None, days=30.0, seed=0)
@example(naive=datetime(1, 1, 1), offset=timezone(timedelta(hours=5)), days=2.0, seed=0)
def test_the_period_is_where_the_events_are_or_a_value_error(
    tmp_path: Path, naive: datetime, offset: timezone | None, days: float, seed: int
) -> None:
    moment = naive.replace(tzinfo=offset)
    start, before_year_1 = _utc(moment)
    end = _end(start, days)
    fits = end is not None and end <= LAST - timedelta(seconds=1)
    outside = before_year_1 or end is None or end > LAST
    kwargs = {"n_leaders": 1, "n_members": 3, "activity_scale": 0.5, "seed": seed}
    try:
        tribe = simulate_tribe(days=days, start=moment.isoformat(), **kwargs)
    except ValueError as exc:
        assert not fits, exc
        assert "start" in str(exc)
        return
    assert not outside
    assert start is not None and end is not None
    events = tribe.events
    if events.height == 0:
        return
    assert ev.validate_events(events) == []
    times = events.get_column("timestamp")
    assert times.min() >= start  # type: ignore[operator]
    assert times.max() < end  # type: ignore[operator]
    path = tmp_path / "events.csv"
    ev.write_events(events, path)
    assert ev.read_events(path).equals(events)


def test_an_unreadable_start_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="start must be an ISO-8601"):
        simulate_tribe(n_leaders=1, start="2024-13-01")
