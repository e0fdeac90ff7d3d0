"""Hypothesis properties of the per-leader measures against a slow reading of ``docs/methods.md``.

Over small random event sets (a few accounts; posts, replies, shares and reactions with
parents inside or outside the data, mentions of accounts in or out of the data, tied
timestamps), every count and rate of :func:`tribe_analysis.features.leader_measures` is
counted again here one event at a time, from the definitions of ``docs/methods.md``
(never from the package's own expressions), and the participation index from its parts.
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy import stats

from tests.event_strategies import canonical_events
from tribe_analysis import events as ev
from tribe_analysis import features as ft
from tribe_analysis import pipeline
from tribe_analysis.observability import observe

SETTINGS = hypothesis.settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.data_too_large],
)
START = datetime(2024, 3, 1, tzinfo=UTC)
M = 2  # a small minimum denominator, so that small random sets have rates


@st.composite
def random_events(draw: st.DrawFn) -> pl.DataFrame:
    """Canonical events of 1-5 accounts: any action, parent or mention, timestamps with ties."""
    actors = [f"a{i}" for i in range(draw(st.integers(1, 5)))]
    return canonical_events(
        draw,
        actors,
        start=START,
        events=60,
        outside=("elsewhere", "gone"),
        mentioned_by=("post", "reply", "share"),
        mentioned=[*actors, "zed"],
        max_mentions=2,
        hours=40,
    )


class Oracle:
    """The measures of one leader, counted event by event from ``docs/methods.md``."""

    def __init__(
        self, events: pl.DataFrame, seen: dict[str, bool], window: tuple | None = None
    ) -> None:
        self.all = events.to_dicts()
        lo, hi = window or (None, None)
        self.rows = [r for r in self.all if lo is None or lo <= r["timestamp"] < hi]
        self.seen = seen
        self.by_id = {r["event_id"]: r for r in self.all}
        self.posts = {r["event_id"]: r for r in self.all if r["action"] == "post"}
        self.inter: list[tuple[str, str]] = []  # (source, target), one per interaction
        for r in self.rows:
            a, t = r["actor_id"], r["target_actor_id"]
            if r["action"] in ("reply", "share", "reaction") and t is not None and t != a:
                self.inter.append((a, t))
            if r["action"] in ("post", "reply"):
                self.inter += [(a, b) for b in set(r["mentions"]) if b is not None and b != a]

    def root_author(self, r: dict) -> str | None:
        root = self.posts.get(r["thread_id"])
        return None if root is None else root["actor_id"]

    def replies_in(self, thread: str) -> list[dict]:
        return [r for r in self.all if r["action"] == "reply" and r["thread_id"] == thread]

    def answered(self, leader: str, event_id: str) -> bool:
        return any(
            r["actor_id"] == leader and r["action"] == "reply" and r["parent_id"] == event_id
            for r in self.all
        )

    def measures(self, L: str) -> dict[str, object]:  # noqa: N803 (the docs' notation)
        own = [r for r in self.rows if r["actor_id"] == L]
        P = [r for r in own if r["action"] == "post"]  # noqa: N806
        R = [r for r in own if r["action"] == "reply"]  # noqa: N806
        S = [r for r in own if r["action"] == "share"]  # noqa: N806
        auth = len(P) + len(R) + len(S)
        a_out = {t for s, t in self.inter if s == L}
        a_in = {s for s, t in self.inter if t == L}
        tribe = a_out | a_in
        out: dict[str, object] = {
            "posts": len(P),
            "replies": len(R),
            "shares": len(S),
            "reactions": sum(r["action"] == "reaction" for r in own),
            "authored": auth,
            "tribe_size": len(tribe),
            "interactions_out": sum(s == L for s, _ in self.inter),
            "interactions_in": sum(t == L for _, t in self.inter),
        }
        engaging = [r for r in own if r["action"] in ("reply", "share", "reaction")]
        engaged_ids = {  # at any time in the period
            r["parent_id"]
            for r in self.all
            if r["actor_id"] == L and r["action"] in ("reply", "share", "reaction")
        }
        tribe_posts = [r for r in self.rows if r["action"] == "post" and r["actor_id"] in tribe]
        out["see_coverage"] = (
            sum(p["event_id"] in engaged_ids for p in tribe_posts),
            len(tribe_posts),
        )
        seen_members = {
            r["target_actor_id"] for r in engaging if r["target_actor_id"] not in (None, L)
        }
        out["see_breadth"] = (len(seen_members & a_in), len(a_in))  # those who came to L
        comments = [
            r for r in R if self.root_author(r) != L and r["target_actor_id"] != L
        ]  # root unknown (None) counts
        out["comment_share"] = (len(comments), auth)
        to_others = [r["target_actor_id"] for r in R if r["target_actor_id"] not in (None, L)]
        per_target = sorted((to_others.count(t) for t in set(to_others)), reverse=True)
        out["comment_targets"] = len(set(to_others))
        out["reply_concentration"] = (sum(per_target[:5]), len(to_others))
        first_level = [  # comments in the window on L's posts of any time
            r
            for p in self.posts.values()
            if p["actor_id"] == L
            for r in self.rows
            if r["action"] == "reply" and r["parent_id"] == p["event_id"] and r["actor_id"] != L
        ]
        out["reply_rate"] = (
            sum(self.answered(L, c["event_id"]) for c in first_level),
            len(first_level),
        )
        latencies = []
        for c in first_level:
            times = [  # L's replies to the comment, at any time
                r["timestamp"]
                for r in self.all
                if r["actor_id"] == L and r["action"] == "reply" and r["parent_id"] == c["event_id"]
            ]
            if times:
                hours = (min(times) - c["timestamp"]).total_seconds() / 3600
                latencies.append(max(hours, 0.0))
        enough = len(first_level) >= M  # null with reply_rate
        out["reply_latency_h"] = statistics.median(latencies) if latencies and enough else None
        addressed = [
            r
            for r in self.rows
            if r["action"] == "reply" and r["actor_id"] != L and r["target_actor_id"] == L
        ]
        out["answer_rate"] = (
            sum(self.answered(L, r["event_id"]) for r in addressed),
            len(addressed),
        )
        if not self.seen["reply_chains"]:  # flat comments: the replies to L's posts only
            out["answer_rate"] = out["reply_rate"]
        drew = loops = discussions = started = 0
        participants, depth, focus, yields = [], [], [], []
        for p in P:
            thread = self.replies_in(p["event_id"])
            others = [r for r in thread if r["actor_id"] != L]
            people = {r["actor_id"] for r in others}
            joined = any(
                r["actor_id"] == L and r["target_actor_id"] not in (None, L) for r in thread
            )
            drew += bool(others)
            loops += bool(others) and joined
            discussions += len(people) >= 2
            started += len(people) >= 2 and joined
            participants.append(len(people))
            yields.append(len(others))
            if people:
                focus.append(len(others) / len(people))
            depth.append(max((self.depth(r) for r in thread), default=0))
        out["conversation_share"] = (started, discussions)
        out["dialogic_loop_share"] = (loops, drew)
        out["unanswered_share"] = (drew - loops, drew)
        out["conversation_posts"] = len(P)
        for name, values in (
            ("participants", participants),
            ("depth", depth),
            ("focus_ratio", focus),
            ("conversation_yield", yields),
        ):
            out[name] = float(statistics.median(values)) if values and len(P) >= M else None
        posts_mentioning = sum(bool(set(p["mentions"]) - {L, None}) for p in P)
        shares_of_others = sum(s["target_actor_id"] != L for s in S)  # unknown author counts
        num = shares_of_others * self.seen["shares"] + posts_mentioning * self.seen["mentions"]
        out["promotion_share"] = (num, len(P) + len(S))
        out["mention_share"] = (posts_mentioning, len(P))
        promoted = {s["target_actor_id"] for s in S if s["target_actor_id"] not in (None, L)}
        promoted |= {b for p in P for b in p["mentions"] if b not in (None, L)}
        out["promoted_breadth"] = (len(promoted), len(tribe))
        out["broadcast_share"] = (len(P) - posts_mentioning, auth)
        out["alter_reciprocity"] = (len(a_out & a_in), len(tribe))
        n_out, n_in = out["interactions_out"], out["interactions_in"]
        out["give_receive_log_ratio"] = math.log((n_out + 1) / (n_in + 1))  # type: ignore[operator]
        return out

    def depth(self, r: dict) -> int:
        """Distance from the thread's root (a parent outside the data counts as the root)."""
        d = 0
        while r is not None and r["parent_id"] is not None:
            d += 1
            r = self.by_id.get(r["parent_id"])
        return d


def _check(events: pl.DataFrame, seen: dict[str, bool], observability=None, every=None) -> None:
    leaders = sorted(set(events["actor_id"])) + ["nobody"]
    got = ft.leader_measures(
        events, leaders, min_denominator=M, ego=False, observability=observability, every=every
    )
    if every is not None:  # a row for every window in which a leader authored or reacted
        own = events.select("actor_id", pl.col("timestamp").dt.truncate(every).alias("w"))
        assert set(own.unique().rows()) <= set(got.select("leader_id", "window_start").rows())
    for row in got.iter_rows(named=True):
        window = (row["window_start"], row["window_end"]) if every else None
        _same(row, Oracle(events, seen, window).measures(row["leader_id"]), seen)


def _same(row: dict, want: dict, seen: dict[str, bool]) -> None:
    """``row`` of leader_measures holds the oracle's ``want`` under the null rules."""
    hidden = ft.unobserved_measures(seen)
    for name, value in want.items():
        if name in hidden:
            assert row[name] is None, name
            if name in ft.RATES:
                assert row[f"{name}_num"] is None and row[f"{name}_den"] is None, name
            continue
        if isinstance(value, tuple):
            num, den = value
            assert (row[f"{name}_num"], row[f"{name}_den"]) == (num, den), (name, row)
            assert 0 <= num <= den, (name, num, den)
            if den < M:
                assert row[name] is None, name
                assert row[f"{name}_low"] is None and row[f"{name}_high"] is None, name
            else:
                assert math.isclose(row[name], num / den), name
                assert 0 <= row[f"{name}_low"] <= row[name] <= row[f"{name}_high"] <= 1, name
        elif name in ("shares", "reactions") and not seen[name]:
            assert row[name] is None, name
        elif isinstance(value, float):
            assert row[name] is not None and math.isclose(row[name], value), (name, row)
        else:
            assert row[name] == value, (name, row[name], value)
    _check_index(row)


def _check_index(row: dict) -> None:
    parts = [p for p in ft.PARTICIPATION_PARTS if row[p] is not None]
    assert row["parts_observed"] == len(parts)
    if len(parts) < 3:
        assert row["participation_index"] is None and row["index_se"] is None
        return
    mean = sum(row[p] for p in parts) / len(parts)
    assert math.isclose(row["participation_index"], mean)
    posterior = [  # Jeffreys: Beta(x + 1/2, n - x + 1/2)
        stats.beta(row[f"{p}_num"] + 0.5, row[f"{p}_den"] - row[f"{p}_num"] + 0.5) for p in parts
    ]
    se = math.sqrt(sum(b.var() for b in posterior)) / len(parts)
    assert math.isclose(row["index_se"], se, rel_tol=1e-9)
    z = stats.norm.ppf(0.95)
    assert math.isclose(row["index_low"], max(mean - z * se, 0.0), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(row["index_high"], min(mean + z * se, 1.0), rel_tol=1e-9, abs_tol=1e-12)


@SETTINGS
@hypothesis.given(events=random_events())
def test_every_measure_is_its_definition_counted_event_by_event(events) -> None:
    seen = dict(observe(events).select("signal", "observable").iter_rows())
    _check(events, seen)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    facts=st.fixed_dictionaries(
        {
            "reaction": st.booleans(),
            "share": st.booleans(),
            "mention": st.booleans(),
            "reply": st.booleans(),
            "reply_answer": st.booleans(),
            "reply_chain": st.booleans(),
        }
    ),
)
def test_a_platform_that_hides_a_signal_leaves_its_measures_unknown(events, facts) -> None:
    table = observe(events, facts)
    _check(events, dict(table.select("signal", "observable").iter_rows()), observability=table)


@SETTINGS
@hypothesis.given(events=random_events(), every=st.sampled_from(["3h", "6h", "1d"]))
def test_windowed_measures_count_each_event_in_its_window(events, every) -> None:
    """``every``: each event in its own window; threads by their root post's, seeing at any time."""
    seen = dict(observe(events).select("signal", "observable").iter_rows())
    _check(events, seen, every=every)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    hours=st.tuples(st.integers(0, 40), st.integers(1, 41)),
    zone=st.sampled_from(["Europe/Paris", "America/St_Johns", "Asia/Kolkata", "UTC", "+05:45"]),
)
def test_a_window_bound_is_an_instant_in_any_time_zone(events, hours, zone) -> None:
    """``since``/``until`` in a named zone or an offset keep the events of the same UTC instants.

    Before, a datetime in a named zone (``ZoneInfo("Europe/Paris")``) raised polars'
    SchemaError (a traceback) from ``leader_measures`` and ``pipeline.profile``.
    """
    lo, hi = (START + timedelta(hours=h) for h in sorted(hours))
    hypothesis.assume(lo < hi)
    tz = timezone(timedelta(hours=5, minutes=45)) if zone.startswith("+") else ZoneInfo(zone)
    leaders = sorted(set(events["actor_id"]))
    utc = ft.leader_measures(events, leaders, since=lo, until=hi, ego=False)
    local = ft.leader_measures(
        events, leaders, since=lo.astimezone(tz), until=hi.astimezone(tz), ego=False
    )
    assert_frame_equal(local, utc)
    inside = events.filter(pl.col("timestamp").is_between(lo, hi, closed="left"))
    assert utc["authored"].sum() == inside["action"].is_in(["post", "reply", "share"]).sum()


@SETTINGS
@hypothesis.given(events=random_events(), minimum=st.integers(-1, 2))
def test_a_rate_without_a_case_is_null_never_nan_whatever_the_minimum(events, minimum) -> None:
    """``min_denominator`` 0 (or less) keeps the null rule for an empty denominator.

    Before, ``min_denominator=0`` gave NaN (0 ÷ 0) for every rate without a case, in the
    measures and ``features.parquet``: a leader without posts had ``mention_share`` NaN.
    """
    leaders = [*sorted(set(events["actor_id"])), "nobody"]
    got = ft.leader_measures(events, leaders, min_denominator=minimum, ego=False)
    floats = got.select(pl.selectors.float())
    bad = floats.select(pl.all().is_nan().any() | pl.all().is_infinite().any()).row(0)
    assert not any(bad), [c for c, b in zip(floats.columns, bad, strict=True) if b]
    for name in ft.RATES:
        den = got[f"{name}_den"]
        known = den.is_not_null() & (den >= max(minimum, 1))
        assert (got[name].is_not_null() == known).all(), name


def _relabeled(events: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, dict[str, str]]:
    """The events with every account and event id renamed (a bijection), rows shuffled."""
    actors = sorted(set(events["actor_id"]) | set(events["mentions"].explode().drop_nulls()))
    shuffle = random.Random(seed).sample
    rename = {
        a: f"u{k:03d}"
        for k, a in zip(shuffle(range(len(actors)), len(actors)), actors, strict=True)
    }
    ids = {
        e: f"x{k:04d}"
        for k, e in zip(
            shuffle(range(events.height), events.height), events["event_id"], strict=True
        )
    }

    def mapped(column: str, table: dict[str, str]) -> pl.Expr:
        return pl.col(column).replace_strict(table, default=pl.col(column), return_dtype=pl.String)

    raw = events.select(
        mapped("event_id", ids),
        "timestamp",
        mapped("actor_id", rename),
        "action",
        mapped("parent_id", ids),
        pl.col("mentions").list.eval(mapped("", rename).alias("")),
        "platform",
    ).sample(fraction=1.0, shuffle=True, seed=seed)
    return ev.complete_events(raw), rename


@SETTINGS
@hypothesis.given(events=random_events(), seed=st.integers(0, 1000))
def test_renaming_every_account_and_event_changes_no_measure(events, seed) -> None:
    leaders = sorted(set(events["actor_id"]))
    renamed, rename = _relabeled(events, seed)
    before = ft.leader_measures(events, leaders, min_denominator=M)
    after = ft.leader_measures(renamed, [rename[a] for a in leaders], min_denominator=M)
    back = {new: old for old, new in rename.items()}
    after = after.with_columns(pl.col("leader_id").replace_strict(back)).sort("leader_id")
    assert_frame_equal(after, before)


@SETTINGS
@hypothesis.given(
    events=random_events(),
    every=st.sampled_from(["3h", "1d", "1w"]),
    since=st.integers(-5, 45),
)
def test_windows_of_a_period_hold_its_events_and_an_empty_period_has_none(
    events, every, since
) -> None:
    """``every`` with ``since``: one row per leader and window with data; none without events.

    Before, a period without events (``since`` after the last event) with the ego measures
    (the default) raised polars' 'cannot concat empty list' instead of giving no windows.
    """
    start = START + timedelta(hours=since)
    leaders = sorted(set(events["actor_id"]))
    got = ft.leader_measures(events, leaders, every=every, since=start, min_denominator=M)
    inside = events.filter(pl.col("timestamp") >= start)
    assert got.columns == ft.leader_measures(events, leaders, every=every).columns
    assert (got.height == 0) == inside.is_empty()
    assert got["authored"].sum() == inside["action"].is_in(["post", "reply", "share"]).sum()
    assert got["reactions"].fill_null(0).sum() <= (inside["action"] == "reaction").sum()
    assert (got["window_start"] < got["window_end"]).all()


@SETTINGS
@hypothesis.given(
    events=random_events(),
    every=st.one_of(
        st.sampled_from(["0d", "-1d", "", "d", "1", "week", "banana", "1ns"]),
        st.text(max_size=4).filter(lambda s: not any(c.isdigit() for c in s)),
    ),
)
def test_a_window_length_that_is_no_positive_duration_is_one_clear_error(events, every) -> None:
    """Before, ``every="0d"`` gave windows that end where they start (one per timestamp),
    and ``"-1d"`` or ``"banana"`` raised polars' ComputeError or InvalidOperationError."""
    with pytest.raises(ValueError, match="is not a positive duration") as raised:
        ft.leader_measures(events, ["a0"], every=every)
    assert len(str(raised.value).splitlines()) == 1


@SETTINGS
@hypothesis.given(events=random_events(), hours=st.tuples(st.integers(0, 40), st.integers(0, 40)))
def test_a_reversed_or_empty_period_is_an_error_not_a_run_of_zeros(events, hours) -> None:
    """``since`` at or after ``until`` is refused, as ``pipeline.profile`` refuses it; before,
    ``leader_measures`` gave every leader zero counts (read as an empty period)."""
    lo, hi = (START + timedelta(hours=h) for h in hours)
    hypothesis.assume(lo >= hi)
    with pytest.raises(ValueError, match="is not before"):
        ft.leader_measures(events, ["a0"], since=lo, until=hi)


@SETTINGS
@hypothesis.given(events=random_events(), data=st.data())
def test_one_leader_given_as_a_bare_string_is_refused_not_split_into_letters(events, data) -> None:
    """Before, ``leader_measures(events, "a0")`` and ``pipeline.profile(events, "a0")``
    measured the accounts 'a' and '0' (the string's characters): rows of zeros, labelled
    undetermined, and no row for a0. ``graph.ego_measures`` already refused it."""
    leader = data.draw(st.sampled_from(sorted(set(events["actor_id"]))))
    with pytest.raises(TypeError, match="not the string"):
        ft.leader_measures(events, leader, ego=False)
    with pytest.raises(TypeError, match="not the string"):
        pipeline.profile(events, leader)
    assert ft.leader_measures(events, [leader], ego=False)["leader_id"].to_list() == [leader]
