"""Every measure checked against values computed by hand on a tiny tribe.

Leaders: A broadcasts (self-reply, self-share, self-mention, never answers),
B participates (answers, reacts, shares others, mentions, replies outside the
data), C comments elsewhere and receives no comment (reply_rate null).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import networkx as nx
import polars as pl
import pytest

from tribe_analysis import events as ev
from tribe_analysis import features as ft
from tribe_analysis import graph
from tribe_analysis import observability as obs

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)

# (event_id, minute, actor, action, parent, mentions)
ROWS = [
    ("a_p1", 0, "A", "post", None, []),
    ("a_p2", 1, "A", "post", None, []),
    ("a_p3", 2, "A", "post", None, ["A"]),  # mentions only itself: still a broadcast
    ("c1", 3, "m1", "reply", "a_p1", []),
    ("c2", 4, "m2", "reply", "a_p1", []),
    ("c3", 5, "m3", "reply", "a_p2", []),
    ("x_m1", 6, "m1", "reaction", "a_p1", []),
    ("s_m4", 7, "m4", "share", "a_p2", []),
    ("a_rs", 8, "A", "reply", "a_p3", []),  # self-reply
    ("a_ss", 9, "A", "share", "a_p1", []),  # share of one's own post
    ("b_p1", 10, "B", "post", None, ["m5", "m6"]),
    ("b_p2", 11, "B", "post", None, []),
    ("c4", 13, "m5", "reply", "b_p1", []),
    ("c5", 14, "m6", "reply", "b_p1", []),
    ("c6", 15, "m7", "reply", "b_p2", []),
    ("b_r1", 43, "B", "reply", "c4", []),  # answers after 30 min
    ("b_r2", 135, "B", "reply", "c6", []),  # answers after 120 min
    ("c7", 140, "m5", "reply", "b_r1", []),  # depth 3
    ("m8_p1", 20, "m8", "post", None, []),
    ("b_x1", 21, "B", "reaction", "m8_p1", []),
    ("b_r3", 22, "B", "reply", "m8_p1", []),
    ("b_s1", 23, "B", "share", "m8_p1", []),
    ("m9_p1", 24, "m9", "post", None, []),
    ("b_x2", 25, "B", "reaction", "m9_p1", []),
    ("b_r4", 26, "B", "reply", "ext1", []),  # parent outside the data
    ("c_p1", 30, "C", "post", None, []),
    ("m10_p1", 31, "m10", "post", None, []),
    ("c_r1", 32, "C", "reply", "m10_p1", []),
    ("x_m11", 33, "m11", "reaction", "c_p1", []),
    ("m12_p1", 34, "m12", "post", None, []),
]


def tiny_events(rows=ROWS) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "timestamp": [T0 + timedelta(minutes=r[1]) for r in rows],
            "actor_id": [r[2] for r in rows],
            "action": [r[3] for r in rows],
            "parent_id": [r[4] for r in rows],
            "mentions": [r[5] for r in rows],
        },
        schema_overrides={"mentions": pl.List(pl.String)},
    )
    return ev.complete_events(ev.conform(frame, platform="events"))


EXPECTED = {
    "A": {
        "posts": 3,
        "replies": 1,
        "shares": 1,
        "reactions": 0,
        "authored": 5,
        "tribe_size": 4,
        "interactions_out": 0,
        "interactions_in": 5,
        "conversation_posts": 3,
        "see_coverage": None,
        "see_coverage_num": 0,
        "see_coverage_den": 0,
        "see_breadth": 0.0,
        "see_breadth_num": 0,
        "see_breadth_den": 4,
        "comment_share": 0.0,
        "comment_share_num": 0,
        "comment_share_den": 5,
        "comment_targets": 0,
        "reply_concentration": None,
        "reply_concentration_num": 0,
        "reply_concentration_den": 0,
        "reply_rate": 0.0,
        "reply_rate_num": 0,
        "reply_rate_den": 3,
        "answer_rate": 0.0,
        "answer_rate_num": 0,
        "answer_rate_den": 3,
        "reply_latency_h": None,
        "dialogic_loop_share": 0.0,
        "dialogic_loop_share_num": 0,
        "dialogic_loop_share_den": 2,
        "unanswered_share": 1.0,
        "unanswered_share_num": 2,
        "unanswered_share_den": 2,
        "participants": 1.0,
        "depth": 1.0,
        "focus_ratio": 1.0,
        "conversation_yield": 1.0,
        "promotion_share": 0.0,
        "promotion_share_num": 0,
        "promotion_share_den": 4,
        "mention_share": 0.0,  # a_p3 mentions only A itself
        "mention_share_num": 0,
        "mention_share_den": 3,
        "promoted_breadth": 0.0,
        "promoted_breadth_num": 0,
        "promoted_breadth_den": 4,
        "broadcast_share": 0.6,
        "broadcast_share_num": 3,
        "broadcast_share_den": 5,
        "alter_reciprocity": 0.0,
        "alter_reciprocity_num": 0,
        "alter_reciprocity_den": 4,
        "give_receive_log_ratio": math.log(1 / 6),
        "conversation_share": 0.0,
        "conversation_share_num": 0,
        "conversation_share_den": 1,
        "participation_index": (0 + 0 + 0 + 0 + 0) / 5,
        "parts_observed": 5,
    },
    "B": {
        "posts": 2,
        "replies": 4,
        "shares": 1,
        "reactions": 2,
        "authored": 7,
        "tribe_size": 5,
        "interactions_out": 8,
        "interactions_in": 4,
        "conversation_posts": 2,
        "see_coverage": 1.0,
        "see_coverage_num": 2,
        "see_coverage_den": 2,
        "see_breadth": 2 / 3,  # of m5, m6, m7, who came to B, it engaged m5 and m7
        "see_breadth_num": 2,
        "see_breadth_den": 3,
        "comment_share": 2 / 7,
        "comment_share_num": 2,
        "comment_share_den": 7,
        "comment_targets": 3,
        "reply_concentration": 1.0,
        "reply_concentration_num": 3,
        "reply_concentration_den": 3,
        "reply_rate": 2 / 3,
        "reply_rate_num": 2,
        "reply_rate_den": 3,
        # c4, c5, c6 on B's posts and c7 under B's answer b_r1: c4 and c6 answered
        "answer_rate": 2 / 4,
        "answer_rate_num": 2,
        "answer_rate_den": 4,
        "reply_latency_h": 1.25,
        "dialogic_loop_share": 1.0,
        "dialogic_loop_share_num": 2,
        "dialogic_loop_share_den": 2,
        "unanswered_share": 0.0,
        "unanswered_share_num": 0,
        "unanswered_share_den": 2,
        "participants": 1.5,
        "depth": 2.5,
        "focus_ratio": 1.25,
        "conversation_yield": 2.0,
        "promotion_share": 2 / 3,
        "promotion_share_num": 2,
        "promotion_share_den": 3,
        "mention_share": 1 / 2,
        "mention_share_num": 1,
        "mention_share_den": 2,
        "promoted_breadth": 0.6,
        "promoted_breadth_num": 3,
        "promoted_breadth_den": 5,
        "broadcast_share": 1 / 7,
        "broadcast_share_num": 1,
        "broadcast_share_den": 7,
        "alter_reciprocity": 0.6,
        "alter_reciprocity_num": 3,
        "alter_reciprocity_den": 5,
        "give_receive_log_ratio": math.log(9 / 5),
        "conversation_share": 1.0,
        "conversation_share_num": 1,
        "conversation_share_den": 1,
        # seeing, commenting, starting conversations, answering, promoting others
        "participation_index": (2 / 3 + 2 / 7 + 1.0 + 2 / 4 + 1 / 2) / 5,
        "parts_observed": 5,
    },
    "C": {
        "posts": 1,
        "replies": 1,
        "shares": 0,
        "reactions": 0,
        "authored": 2,
        "tribe_size": 2,
        "interactions_out": 1,
        "interactions_in": 1,
        "conversation_posts": 1,
        "see_coverage": 1.0,
        "see_coverage_num": 1,
        "see_coverage_den": 1,
        "see_breadth": 0.0,  # m11 came to C (a reaction), C never engaged m11; m10 never came
        "see_breadth_num": 0,
        "see_breadth_den": 1,
        "comment_share": 0.5,
        "comment_share_num": 1,
        "comment_share_den": 2,
        "comment_targets": 1,
        "reply_concentration": 1.0,
        "reply_concentration_num": 1,
        "reply_concentration_den": 1,
        "reply_rate": None,
        "reply_rate_num": 0,
        "reply_rate_den": 0,
        "answer_rate": None,
        "answer_rate_num": 0,
        "answer_rate_den": 0,
        "reply_latency_h": None,
        "dialogic_loop_share": None,
        "dialogic_loop_share_num": 0,
        "dialogic_loop_share_den": 0,
        "unanswered_share": None,
        "unanswered_share_num": 0,
        "unanswered_share_den": 0,
        "participants": 0.0,
        "depth": 0.0,
        "focus_ratio": None,
        "conversation_yield": 0.0,
        "promotion_share": 0.0,
        "promotion_share_num": 0,
        "promotion_share_den": 1,
        "mention_share": 0.0,
        "mention_share_num": 0,
        "mention_share_den": 1,
        "promoted_breadth": 0.0,
        "promoted_breadth_num": 0,
        "promoted_breadth_den": 2,
        "broadcast_share": 0.5,
        "broadcast_share_num": 1,
        "broadcast_share_den": 2,
        "alter_reciprocity": 0.0,
        "alter_reciprocity_num": 0,
        "alter_reciprocity_den": 2,
        "give_receive_log_ratio": 0.0,
        "conversation_share": None,
        "conversation_share_num": 0,
        "conversation_share_den": 0,
        "participation_index": (0.0 + 0.5 + 0.0) / 3,
        "parts_observed": 3,
    },
}


@pytest.fixture(scope="module")
def measures() -> dict[str, dict]:
    table = ft.leader_measures(tiny_events(), ["C", "A", "B"], min_denominator=1)
    return {row["leader_id"]: row for row in table.iter_rows(named=True)}


@pytest.mark.parametrize("leader", ["A", "B", "C"])
@pytest.mark.parametrize("column", sorted(EXPECTED["A"]))
def test_measure_by_hand(measures, leader, column):
    want = EXPECTED[leader][column]
    got = measures[leader][column]
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, abs=1e-12)


def test_every_documented_column_is_present():
    table = ft.leader_measures(tiny_events(), ["A"], min_denominator=1)
    assert table.columns[0] == "leader_id"
    for name in ft.MEASURES:
        assert name in table.columns
    for name in ft.RATES:
        assert {f"{name}_num", f"{name}_den", f"{name}_low", f"{name}_high"} <= set(table.columns)


def test_rows_sorted_by_leader(measures):
    table = ft.leader_measures(tiny_events(), ["C", "A", "B"], min_denominator=1)
    assert table.get_column("leader_id").to_list() == ["A", "B", "C"]


def test_minimum_denominator_nulls_rates_but_keeps_counts():
    row = ft.leader_measures(tiny_events(), ["A"]).row(0, named=True)  # default minimum 5
    assert row["reply_rate"] is None
    assert (row["reply_rate_num"], row["reply_rate_den"]) == (0, 3)
    assert row["parts_observed"] == 1  # only commenting (0 of 5 authored actions)
    assert row["participation_index"] is None and row["index_low"] is None
    assert row["participants"] is None  # 3 root posts < 5


def test_platform_without_reactions_has_null_seeing():
    no_reactions = [r for r in ROWS if r[3] != "reaction"]
    table = ft.leader_measures(
        tiny_events(no_reactions),
        ["A", "B", "C"],
        min_denominator=1,
        observability={"post": True, "reply": True, "share": True, "reaction": False},
    )
    for row in table.iter_rows(named=True):
        for name in ("see_coverage", "see_breadth"):
            assert row[name] is None
            assert row[f"{name}_num"] is None and row[f"{name}_den"] is None
        assert row["comment_share"] is not None
    b = table.filter(pl.col("leader_id") == "B").row(0, named=True)
    # without reactions m9 leaves B's tribe (reciprocity 3/4), and the index is the
    # mean of the four parts other than seeing
    assert b["alter_reciprocity"] == pytest.approx(0.75)
    assert b["participation_index"] == pytest.approx((2 / 7 + 1.0 + 2 / 4 + 1 / 2) / 4)
    assert b["parts_observed"] == 4


def test_leader_without_events_gets_nulls():
    row = ft.leader_measures(tiny_events(), ["nobody"], min_denominator=1).row(0, named=True)
    assert row["authored"] == 0 and row["tribe_size"] == 0 and row["ego_size"] == 0
    assert row["participation_index"] is None and row["reply_rate"] is None


def test_ego_measures_match_networkx(measures):
    edges = graph.edge_list(tiny_events())
    full = graph.to_networkx(edges).to_undirected()
    ego = nx.ego_graph(full, "B")
    assert measures["B"]["ego_size"] == ego.number_of_nodes() - 1 == 5
    assert measures["B"]["ego_effective_size"] == pytest.approx(5.0)
    assert measures["B"]["ego_density"] == pytest.approx(0.0)


def test_windows_and_period_filters():
    events = tiny_events()
    hourly = ft.leader_measures(events, ["B"], every="1h", min_denominator=1)
    assert hourly.columns[:3] == ["leader_id", "window_start", "window_end"]
    assert hourly.get_column("window_start").to_list() == [T0, T0 + timedelta(hours=2)]
    first = hourly.row(0, named=True)
    assert first["posts"] == 2 and first["replies"] == 3  # b_r2 falls in the 11:00 window
    assert first["window_end"] == T0 + timedelta(hours=1)
    late = ft.leader_measures(events, ["B"], since=T0 + timedelta(hours=1), min_denominator=1)
    assert late.row(0, named=True)["replies"] == 1
    early = ft.leader_measures(events, ["B"], until="2024-03-04T09:30:00Z", min_denominator=1)
    assert early.row(0, named=True)["replies"] == 2  # b_r3, b_r4


def test_bad_dates_are_errors():
    with pytest.raises(ValueError, match="cannot parse date 'soon'"):
        ft.leader_measures(tiny_events(), ["A"], since="soon")


def test_measures_are_deterministic():
    events = tiny_events()
    one = ft.leader_measures(events, ["A", "B", "C"], min_denominator=1)
    two = ft.leader_measures(events.reverse(), ["B", "C", "A"], min_denominator=1)
    assert one.equals(two)


def test_select_leaders_by_distinct_audience():
    events = tiny_events()
    # audiences: A 4 (m1..m4), B 3 (m5, m6, m7), C 1 (m11); authored A 5, B 7, C 2
    assert ft.select_leaders(events, top=2, min_activity=1, evidence=False) == ["A", "B"]
    assert ft.select_leaders(events, top=5, min_activity=6, evidence=False) == ["B"]
    # with the default minimum denominator (5) no one here has two observed parts
    assert ft.select_leaders(events, top=5) == []
    with pytest.raises(ValueError, match="top must be at least 1"):
        ft.select_leaders(events, top=0)


def test_an_answer_dated_before_the_comment_counts_as_at_once():
    """Senders' clocks (e-mail Date headers) can date an answer before what it answers."""
    rows = [("p", 0, "L", "post", None, [])]
    rows += [(f"c{i}", 60 * (i + 1), f"m{i}", "reply", "p", []) for i in range(5)]
    rows += [(f"a{i}", 60 * (i + 1) + 30, "L", "reply", f"c{i}", []) for i in range(2)]
    # three answers dated 20 minutes before the comment they answer
    rows += [(f"a{i}", 60 * (i + 1) - 20, "L", "reply", f"c{i}", []) for i in range(2, 5)]
    events = ev.complete_events(
        pl.DataFrame(
            [
                {
                    "event_id": e,
                    "timestamp": T0 + timedelta(minutes=m),
                    "actor_id": a,
                    "action": act,
                    "parent_id": par,
                    "mentions": men,
                    "platform": "events",
                }
                for e, m, a, act, par, men in rows
            ]
        )
    )
    row = ft.leader_measures(events, ["L"], ego=False).row(0, named=True)
    assert row["reply_rate"] == 1.0
    assert row["reply_latency_h"] == 0.0  # median of 0.5, 0.5, 0, 0, 0 (was -1/3 of an hour)
    assert ev.summarize_events(events)["early_replies"] == 3


def test_self_interactions_never_count():
    pairs = ft.tribe_pairs(tiny_events(), ["A"]).collect()
    assert "A" not in pairs.get_column("alter_id").to_list()
    assert pairs.get_column("out").sum() == 0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_participators_score_higher_than_broadcasters(seed):
    from tribe_analysis.synth import simulate_tribe

    tribe = simulate_tribe(n_leaders=24, days=45, seed=seed, mixed_share=0.3)
    table = ft.leader_measures(tribe.events, tribe.leaders, ego=False).join(
        tribe.truth.select("leader_id", "style"), on="leader_id"
    )
    medians = table.group_by("style").agg(
        pl.col("participation_index", "reply_rate", "comment_share", "alter_reciprocity").median()
    )
    by_style = {row["style"]: row for row in medians.iter_rows(named=True)}
    for name in ("participation_index", "reply_rate", "comment_share", "alter_reciprocity"):
        assert by_style["participator"][name] > by_style["broadcaster"][name], name
    # and leader by leader, pure participators beat pure broadcasters on the index
    pure = table.join(tribe.truth.select("leader_id", "mix"), on="leader_id").filter(
        pl.col("mix") == 0
    )
    worst_participator = pure.filter(pl.col("style") == "participator")["participation_index"].min()
    best_broadcaster = pure.filter(pl.col("style") == "broadcaster")["participation_index"].max()
    assert worst_participator > best_broadcaster


def test_select_leaders_skips_pseudo_accounts_and_needs_evidence():
    from tribe_analysis.synth import simulate_tribe

    tribe = simulate_tribe(n_leaders=8, days=30, seed=2)
    renamed = {tribe.leaders[0]: "[deleted]", tribe.leaders[1]: "AutoModerator"}
    events = tribe.events.with_columns(
        pl.col("actor_id", "target_actor_id").replace(renamed),
        pl.col("mentions").list.eval(pl.element().replace(renamed)),
    )
    chosen = ft.select_leaders(events, top=8)
    assert not set(chosen) & set(renamed.values())
    measures = ft.leader_measures(events, chosen, ego=False)
    assert (measures["parts_observed"] >= 2).all()
    # an account that only replies (no posts to answer or discuss) is never chosen
    repliers = (
        events.filter(~pl.col("actor_id").str.starts_with("L"))
        .group_by("actor_id")
        .agg((pl.col("action") == "post").sum().alias("posts"))
    )
    assert not set(chosen) & set(repliers.filter(pl.col("posts") == 0)["actor_id"])


def test_unobservable_signals_make_measures_null_never_zero():
    no_mentions = [(*r[:5], []) for r in ROWS]
    table = ft.leader_measures(tiny_events(no_mentions), ["A", "B"], min_denominator=1)
    b = table.filter(pl.col("leader_id") == "B").row(0, named=True)
    assert b["broadcast_share"] is None and b["broadcast_share_num"] is None
    assert b["mention_share"] is None and b["mention_share_num"] is None
    # promotion still counts what is observable: B's share of m8's post, of 2 posts + 1 share
    assert (b["promotion_share_num"], b["promotion_share_den"]) == (1, 3)
    no_shares = [r for r in no_mentions if r[3] != "share"]
    table = ft.leader_measures(tiny_events(no_shares), ["B"], min_denominator=1)
    assert table["promotion_share"].to_list() == [None]
    assert table["promoted_breadth"].to_list() == [None]
    assert table["shares"].to_list() == [None]  # unknown, not "never shared"
    assert table["reactions"].to_list() == [2]  # B's reactions: reactions are seen
    hidden = ft.leader_measures(tiny_events(), ["B"], observability={"reaction": False})
    assert (hidden["reactions"].to_list(), hidden["shares"].to_list()) == ([None], [1])
    orphan = [r if r[3] != "reply" else (*r[:4], "outside", r[5]) for r in ROWS]
    table = ft.leader_measures(tiny_events(orphan), ["B"], min_denominator=1)
    for name in (
        "comment_share",
        "reply_rate",
        "answer_rate",
        "conversation_share",
        "dialogic_loop_share",
    ):
        assert table[name].to_list() == [None], name


def test_flat_comments_answering_counts_the_replies_to_posts_only():
    # Where a reply to a reply cannot be answered in place (Stack Exchange comments whose
    # @name replies cannot be resolved: no Users.xml),
    # answering counts the replies to the leader's root posts: B's 3, of which 2 answered
    # (c7, under B's answer b_r1, is not an opportunity there).
    facts = {"reply_chain": False}
    table = ft.leader_measures(tiny_events(), ["B"], min_denominator=1, observability=facts)
    b = table.row(0, named=True)
    assert (b["answer_rate_num"], b["answer_rate_den"]) == (2, 3)
    assert (b["reply_rate_num"], b["reply_rate_den"]) == (2, 3)
    seen = ft.signals_of(tiny_events(), facts)
    assert seen["reply_chains"] is False and seen["reply_parents"] is True


def test_flat_threads_make_answering_unknown_never_zero():
    # Slack-like threads: every reply is to the root post, so a leader's answer is a
    # sibling of what it answers. Answering and taking part in one's own threads are
    # unknown (null, with the reason), commenting is still measured.
    root = dict(tiny_events().select("event_id", "thread_id").iter_rows())
    flat = [
        (eid, minute, actor, action, root[eid] if action == "reply" else parent, mentions)
        for eid, minute, actor, action, parent, mentions in ROWS
        if root.get(eid) is not None  # replies outside the data stay out
    ]
    events = tiny_events(flat)
    seen = ft.signals_of(events, None)
    assert seen["reply_parents"] is True and seen["reply_answers"] is False
    table = ft.leader_measures(events, ["A", "B"], min_denominator=1)
    for name in ("reply_rate", "answer_rate", "conversation_share", "dialogic_loop_share"):
        assert table[name].to_list() == [None, None], name
        assert table[f"{name}_den"].to_list() == [None, None], name
    assert table["comment_share"].null_count() == 0
    reason = obs.unobservable(obs.observe(events))["reply_answers"]
    assert reason == "no reply in the input answers another reply (every reply is to a root post)"


def test_rate_intervals_hold_the_rate():
    table = ft.leader_measures(tiny_events(), ["A", "B", "C"], min_denominator=1)
    for name in ft.RATES:
        known = table.filter(pl.col(name).is_not_null())
        assert (known[f"{name}_low"] <= known[name]).all(), name
        assert (known[name] <= known[f"{name}_high"]).all(), name
    b = table.filter(pl.col("leader_id") == "B").row(0, named=True)
    assert b["index_low"] < b["participation_index"] < b["index_high"]
