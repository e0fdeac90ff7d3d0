"""Property tests of the Python API as a notebook calls it, with frames and arguments of any form.

Every call is either the documented result — the same as the call with the documented
types (canonical events, a list of leader ids, UTC datetimes) — or one clear error
naming the argument or column (DESIGN.md section 9), never polars' error from deep
inside or a result that silently differs.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta, timezone

import hypothesis
import numpy as np
import polars as pl
import pytest
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.test_features_properties import random_events
from tribe_analysis import charts, pipeline
from tribe_analysis import events as ev
from tribe_analysis import features as ft
from tribe_analysis.synth import simulate_tribe

SETTINGS = hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.data_too_large],
)

ZONES = ["Asia/Tokyo", "America/St_Johns", "Europe/Paris", "Pacific/Kiritimati", "Etc/GMT+12"]

RETYPED = {  # documented-equivalent forms of a canonical column, as a notebook may hold them
    "timestamp in another zone": lambda z, u: pl.col("timestamp").dt.convert_time_zone(z),
    "timestamp in another unit": lambda z, u: pl.col("timestamp").dt.cast_time_unit(u),
    "zone and unit": lambda z, u: pl.col("timestamp").dt.convert_time_zone(z).dt.cast_time_unit(u),
    "action as text": lambda z, u: pl.col("action").cast(pl.String),
    "action categorical": lambda z, u: pl.col("action").cast(pl.String).cast(pl.Categorical),
}

UNREADABLE = {  # column -> a form that cannot be read as the canonical one
    "timestamp": [
        pl.col("timestamp").dt.replace_time_zone(None),  # naive: which zone?
        pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
        pl.col("timestamp").dt.epoch("s"),
    ],
    "actor_id": [pl.col("actor_id").str.len_bytes().cast(pl.Float64)],
    "thread_id": [pl.lit(1.5).alias("thread_id")],
    "mentions": [pl.col("mentions").list.join("|")],
    "action": [pl.col("action").to_physical()],
}


def _same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-9)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    form=st.sampled_from(sorted(RETYPED)),
    zone=st.sampled_from(ZONES),
    unit=st.sampled_from(["ns", "ms"]),
    every=st.sampled_from([None, "6h", "1d", "1w"]),
    lazy=st.booleans(),
)
def test_a_retyped_frame_gives_the_canonical_frames_measures(
    events, form, zone, unit, every, lazy
) -> None:
    """A timestamp in another zone or unit is the same instant; text actions are the Enum.

    Before, a timestamp column in Asia/Tokyo (``.dt.convert_time_zone``) gave windows
    (``every``) that started at Tokyo's midnight, with ``window_start`` in Tokyo time:
    other counts per window than the same events in UTC, without a word.
    """
    leaders = sorted(set(events["actor_id"]))
    want = ft.leader_measures(events, leaders, every=every, ego=False)
    frame = events.with_columns(RETYPED[form](zone, unit).alias(form.split()[0]))
    got = ft.leader_measures(frame.lazy() if lazy else frame, leaders, every=every, ego=False)
    _same(got, want)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    column=st.sampled_from(sorted(UNREADABLE)),
    data=st.data(),
    missing=st.booleans(),
    lazy=st.booleans(),
)
def test_a_missing_or_unreadable_column_is_one_error_naming_it(
    events, column, data, missing, lazy
) -> None:
    """Before: polars' ColumnNotFoundError, SchemaError or InvalidOperationError, or a result.

    A frame without ``mentions`` (or ``thread_id``, ``target_actor_id``) raised polars'
    ColumnNotFoundError from deep inside; timestamps as text raised InvalidOperationError
    ('sub operation not supported for dtypes str and str'); naive timestamps were
    profiled as if UTC (and failed as SchemaError once ``since`` was given).
    """
    if missing:
        frame = events.drop(column)
        expected = f"events lack column '{column}'"
    else:
        frame = events.with_columns(data.draw(st.sampled_from(UNREADABLE[column])).alias(column))
        expected = f"events column '{column}' has"
    given = frame.lazy() if lazy else frame
    leaders = sorted(set(events["actor_id"]))
    with pytest.raises(ValueError, match=expected):
        ft.leader_measures(given, leaders, ego=False)
    with pytest.raises(ValueError, match=expected):
        pipeline.profile(given, leaders)


def test_an_unknown_action_in_text_is_an_error_not_left_out() -> None:
    """An ``action`` of text holding 'like' raised polars' InvalidOperationError
    ('conversion from `str` to `enum` failed in column 'action'')."""
    t = datetime(2024, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "event_id": ["p", "l"],
            "timestamp": [t, t],
            "actor_id": ["ann", "bob"],
            "action": ["post", "like"],
            "parent_id": [None, "p"],
            "thread_id": ["p", "p"],
            "target_actor_id": [None, "ann"],
            "mentions": [[], []],
        },
        schema_overrides={"mentions": pl.List(pl.String)},
    )
    for given in (frame, frame.lazy()):
        with pytest.raises(ValueError, match="column 'action' has the unknown action 'like'"):
            ft.leader_measures(given, ["ann"], ego=False)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    form=st.sampled_from(["tuple", "set", "series", "generator", "repeated", "with unknown"]),
)
def test_leaders_in_any_collection_are_the_same_leaders(events, form) -> None:
    leaders = sorted(set(events["actor_id"]))
    given = {
        "tuple": lambda: tuple(leaders),
        "set": lambda: set(leaders),
        "series": lambda: pl.Series(leaders),
        "generator": lambda: (leader for leader in reversed(leaders)),
        "repeated": lambda: leaders + leaders[::-1],
        "with unknown": lambda: [*leaders, "nobody"],
    }[form]()
    want = ft.leader_measures(events, leaders, ego=False)
    got = ft.leader_measures(events, given, ego=False)
    if form == "with unknown":  # a leader without events: zero counts, null measures
        assert got["leader_id"].to_list() == [*leaders, "nobody"]
        got = got.filter(pl.col("leader_id") != "nobody")
    _same(got, want)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    odd=st.sampled_from([None, 7, 1.5, b"a0", ("a0",)]),
    profile=st.booleans(),
)
def test_a_leader_that_is_not_an_id_is_a_type_error_naming_leaders(events, odd, profile) -> None:
    """Before: '<' not supported between 'NoneType' and 'str', or polars' 'unexpected value
    while building Series of type String' (both TypeErrors that named no argument)."""
    leaders = [*sorted(set(events["actor_id"])), odd]
    call = pipeline.profile if profile else ft.leader_measures
    with pytest.raises(TypeError, match="leaders must be actor ids"):
        call(events, leaders)


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


@functools.cache
def _measures() -> pl.DataFrame:
    tribe = simulate_tribe(n_leaders=4, days=14, seed=1)
    return ft.leader_measures(tribe.events, tribe.leaders, ego=False)


@SETTINGS
@hypothesis.given(
    chosen=st.lists(st.sampled_from(["L001", "L002", "L003", "L004", "nobody", "L1"]), max_size=5)
)
def test_the_comparison_shows_every_leader_asked_for_or_names_the_missing(chosen) -> None:
    """``measure_comparison(table, leaders=[...])`` left a leader not in the table out of the
    chart without a word (and a bare string, ``leaders="L001"``, showed no leader at all)."""
    table = _measures()
    missing = [leader for leader in chosen if leader not in table["leader_id"].to_list()]
    if missing:
        with pytest.raises(ValueError, match=f"leaders not in the table: '{missing[0]}'"):
            charts.measure_comparison(table, leaders=chosen)
        return
    spec = charts.measure_comparison(table, leaders=chosen).to_dict()
    rows = spec["datasets"][next(iter(spec["datasets"]))]
    assert {row["leader"] for row in rows} == {*chosen, "tribe median"}


def test_the_comparison_refuses_a_bare_string_and_an_unknown_measure() -> None:
    with pytest.raises(TypeError, match="not the string 'L001'"):
        charts.measure_comparison(_measures(), leaders="L001")
    with pytest.raises(ValueError, match="measures 'answer_rat' are not columns"):
        charts.measure_comparison(_measures(), measures=["answer_rate", "answer_rat"])


@SETTINGS
@hypothesis.given(
    events=random_events(),
    value=st.sampled_from(["3", 2.5, 3.0, None, [3]]),
    which=st.sampled_from(["top", "min_denominator"]),
)
def test_a_count_argument_that_is_not_a_whole_number_is_a_type_error_naming_it(
    events, value, which
) -> None:
    """Before: ``profile(events, top="3")`` raised "'<' not supported between 'str' and 'int'",
    ``top=2.5`` 'slice indices must be integers', ``leader_measures(min_denominator="5")``
    polars' ComputeError ('cannot compare string with numeric type')."""
    with pytest.raises(TypeError, match=f"{which} must be a whole number"):
        if which == "top":
            pipeline.profile(events, top=value)
        else:
            ft.leader_measures(events, ["a0"], min_denominator=value, ego=False)


@SETTINGS
@hypothesis.given(events=random_events(), value=st.integers(-2, 3), numpy=st.booleans())
def test_a_whole_number_of_any_integer_type_is_that_number(events, value, numpy) -> None:
    given = np.int64(value) if numpy else value
    leaders = sorted(set(events["actor_id"]))
    want = ft.leader_measures(events, leaders, min_denominator=value, ego=False)
    _same(ft.leader_measures(events, leaders, min_denominator=given, ego=False), want)


def _charts_of(run: pipeline.ProfileRun) -> dict[str, tuple]:
    """Each chart function and its frame arguments, as a notebook calls them on a run."""
    leader = run.leaders[0]
    weekly = ft.leader_measures(run.events, run.leaders, every="1w", ego=False)
    return {
        "profile_map": (charts.profile_map, (run.profiles,), {}),
        "measure_comparison": (charts.measure_comparison, (run.profiles,), {}),
        "ego_network": (charts.ego_network, (run.edges, leader), {}),
        "thread_view": (charts.thread_view, (run.events, leader), {}),
        "activity_timeline": (charts.activity_timeline, (run.events,), {}),
        "style_over_time": (charts.style_over_time, (weekly,), {}),
        "report_card": (charts.report_card, (leader, run.profiles, run.edges, run.events), {}),
        "summarize_events": (ev.summarize_events, (run.events,), {}),
        "validate_events": (ev.validate_events, (run.events,), {}),
    }


@functools.cache
def _run() -> pipeline.ProfileRun:
    tribe = simulate_tribe(n_leaders=2, days=10, seed=1)
    return pipeline.profile(tribe.events, tribe.leaders)


@pytest.mark.parametrize(
    "name",
    [
        "profile_map",
        "measure_comparison",
        "ego_network",
        "thread_view",
        "activity_timeline",
        "style_over_time",
        "report_card",
        "summarize_events",
        "validate_events",
    ],
)
def test_a_lazy_frame_where_a_data_frame_is_documented_is_a_type_error_naming_it(name) -> None:
    """Before: AttributeError ('LazyFrame' object has no attribute 'is_empty', 'get_column',
    'iter_rows', 'height') or 'LazyFrame is not subscriptable', from deep inside."""
    function, args, kwargs = _charts_of(_run())[name]
    function(*args, **kwargs)  # the documented frames work
    for k, arg in enumerate(args):
        if isinstance(arg, pl.DataFrame):
            lazy = [a.lazy() if j == k else a for j, a in enumerate(args)]
            with pytest.raises(TypeError, match="must be a polars DataFrame, not a LazyFrame"):
                function(*lazy, **kwargs)
