"""Property tests of the Python API as a notebook calls it, with frames and arguments of any form.

Every call is either the documented result — the same as the call with the documented
types (canonical events, a list of leader ids, UTC datetimes) — or one clear error
naming the argument or column (DESIGN.md section 9), never polars' error from deep
inside or a result that silently differs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.test_features_properties import random_events
from tribe_analysis import events as ev
from tribe_analysis import features as ft
from tribe_analysis import pipeline

SETTINGS = hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.data_too_large],
)


def _same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-9)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    when=st.one_of(  # near either end of Python's datetimes, where UTC may be outside
        st.datetimes(max_value=datetime(1, 1, 2)),
        st.datetimes(min_value=datetime(9999, 12, 30)),
        st.datetimes(),
    ),
    offset=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    bound=st.sampled_from(["since", "until"]),
    profile=st.booleans(),
)
def test_a_bound_anywhere_in_years_1_to_9999_is_a_result_or_one_clear_error(
    events, when, offset, bound, profile
) -> None:
    """Before: ``since=datetime(1, 1, 1, 0, 30, tzinfo=+01:00)`` raised OverflowError
    ('date value out of range') from the conversion to UTC."""
    value = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
    leaders = sorted(set(events["actor_id"]))
    try:
        if profile:
            pipeline.profile(events, leaders, **{bound: value})
        else:
            ft.leader_measures(events, leaders, ego=False, **{bound: value})
    except ValueError as exc:
        assert "out of range" in str(exc) or "no events in the window" in str(exc), exc


@SETTINGS
@hypothesis.given(events=random_events(), day=st.dates(date(2024, 2, 28), date(2024, 3, 3)))
def test_a_date_is_the_start_of_that_day_in_utc(events, day) -> None:
    """``since=date(...)`` raised AttributeError ('datetime.date' object has no attribute
    'tzinfo'); a day is now read as the text '2024-03-01' is: its midnight in UTC."""
    leaders = sorted(set(events["actor_id"]))
    want = ft.leader_measures(events, leaders, since=day.isoformat(), ego=False)
    _same(ft.leader_measures(events, leaders, since=day, ego=False), want)


@pytest.mark.parametrize("value", [5, 1.5, ["2024-01-01"]])
def test_a_bound_of_another_type_is_a_type_error(value) -> None:
    events = ev.empty_events()
    with pytest.raises(TypeError, match="a date must be a datetime, a date or ISO-8601 text"):
        ft.leader_measures(events, ["ann"], since=value, ego=False)
