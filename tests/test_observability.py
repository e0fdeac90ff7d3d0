"""Observability: a signal is unobservable when the platform hides it or no record carries it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis import observability as obs

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PLATFORM_KEYS = ("reaction", "share", "mention", "reply", "reply_answer", "reply_chain")


@st.composite
def event_lists(draw) -> pl.DataFrame:
    """Canonical events: posts, then actions on earlier events or on ids outside the data."""
    n = draw(st.integers(1, 14))
    rows = []
    for i in range(n):
        action = "post" if i == 0 else draw(st.sampled_from(ev.ACTIONS))
        parent = None
        if action != "post":  # on an earlier event, or on one the export does not hold
            parent = draw(st.one_of(st.just("outside"), st.sampled_from([r[0] for r in rows])))
        mentions = draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True))
        actor = draw(st.sampled_from(["a", "b", "c", "d"]))
        rows.append((f"e{i}", actor, action, parent, mentions if action == "post" else []))
    frame = pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "timestamp": [T0 + timedelta(minutes=i) for i in range(n)],
            "actor_id": [r[1] for r in rows],
            "action": [r[2] for r in rows],
            "parent_id": [r[3] for r in rows],
            "mentions": [r[4] for r in rows],
        },
        schema_overrides={"mentions": pl.List(pl.String), "parent_id": pl.String},
    )
    return ev.complete_events(frame)


platforms = st.dictionaries(st.sampled_from(PLATFORM_KEYS), st.booleans(), max_size=4)


@settings(max_examples=80, deadline=None)
@given(event_lists(), platforms)
def test_a_signal_is_observable_only_if_the_platform_shows_it_and_a_record_carries_it(
    events, platform
):
    table = obs.observe(events, platform, platform_name="somesite")
    counts = obs.signal_counts(events)
    assert table.get_column("signal").to_list() == list(obs.SIGNALS)
    for row in table.iter_rows(named=True):
        exposed = platform.get(obs._PLATFORM_KEY[row["signal"]], True)
        carried = counts.get(row["signal"], 1) > 0  # reply_chains has no data rule
        assert row["observable"] == (exposed and carried)
        if row["observable"]:
            assert row["source"] is None and row["reason"] is None
        elif not exposed:  # the platform's fact comes first, whatever the data holds
            assert row["source"] == "platform"
            assert row["reason"].startswith("the platform (somesite) does not expose ")
        else:
            assert row["source"] == "data"
            assert row["reason"].startswith(("no ", "none of the "))
    assert set(obs.unobservable(table)) == set(
        table.filter(~pl.col("observable")).get_column("signal")
    )


def _counted_row_by_row(events: pl.DataFrame) -> dict[str, int]:
    """What :func:`signal_counts` counts, one record at a time (the oracle)."""
    ids = set(events.get_column("event_id"))
    counts = dict.fromkeys(
        ("reactions", "shares", "mentions", "replies", "reply_parents", "reply_answers"), 0
    )
    for row in events.iter_rows(named=True):
        counts["reactions"] += row["action"] == "reaction"
        counts["shares"] += row["action"] == "share"
        counts["mentions"] += len(row["mentions"]) > 0
        if row["action"] == "reply":
            counts["replies"] += 1
            in_data = row["parent_id"] in ids
            counts["reply_parents"] += in_data
            counts["reply_answers"] += in_data and row["parent_id"] != row["thread_id"]
    return counts


@settings(max_examples=80, deadline=None)
@given(event_lists())
def test_signal_counts_count_the_records_that_carry_each_signal(events):
    assert obs.signal_counts(events) == _counted_row_by_row(events)


@settings(max_examples=60, deadline=None)
@given(event_lists(), st.integers(0, 14))
def test_counts_of_parts_add_up_to_the_counts_of_the_whole(events, cut):
    # a distributed engine sums the counts of its partitions: this must be the same table
    head, tail = events.head(cut), events.slice(cut)
    parts = [obs.signal_counts(part) for part in (head, tail)]
    summed = {key: sum(p[key] for p in parts) for key in parts[0]}
    assert summed == obs.signal_counts(events)
    assert obs.decide(summed).equals(obs.observe(events))
    assert obs.observe(events.lazy()).equals(obs.observe(events))


def test_each_data_rule_names_what_is_missing():
    events = ev.complete_events(
        pl.DataFrame(
            {
                "event_id": ["p1", "r1", "r2"],
                "timestamp": [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)],
                "actor_id": ["ann", "bob", "cy"],
                "action": ["post", "reply", "reply"],
                "parent_id": [None, "p1", "gone"],  # r2 answers a post the export lacks
            }
        )
    )
    reasons = obs.unobservable(obs.observe(events))
    assert reasons == {
        "reactions": "no reaction in any record of the input",
        "shares": "no share in any record of the input",
        "mentions": "no mention in any record of the input",
        "reply_answers": (
            "no reply in the input answers another reply (every reply is to a root post)"
        ),
    }
    orphans = events.filter(pl.col("event_id") != "r1")
    assert obs.unobservable(obs.observe(orphans))["reply_parents"] == (
        "none of the 1 replies has its parent in the input"
    )
    posts = events.filter(pl.col("action") == "post")
    assert obs.unobservable(obs.observe(posts))["reply_parents"] == "no replies in the input"


@pytest.mark.parametrize(
    ("key", "signal", "meaning"),
    [
        ("reaction", "reactions", "reactions given (likes, favourites, votes)"),
        ("reply_chain", "reply_chains", "an answer to a reply's reply"),
    ],
)
def test_a_platform_fact_wins_over_the_data(key, signal, meaning):
    counts = {
        "reactions": 9, "shares": 9, "mentions": 9, "replies": 9,
        "reply_parents": 9, "reply_answers": 9,
    }  # fmt: skip
    table = obs.decide(counts, {key: False}, platform_name="stackexchange")
    assert obs.unobservable(table) == {
        signal: f"the platform (stackexchange) does not expose {obs.SIGNALS[signal]}"
    }
    assert obs.SIGNALS[signal].startswith(meaning)
