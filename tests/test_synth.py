"""Tests of the tribe simulator: schema, integrity, planted rates, determinism, errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tribe_analysis.events import SCHEMA, validate_events
from tribe_analysis.synth import (
    MIX_RANGE,
    RATE_NAMES,
    STYLES,
    SimulatedTribe,
    estimate_events,
    planted_rates,
    simulate_tribe,
)

TRUTH_SCHEMA = pl.Schema(
    {
        "leader_id": pl.String,
        "style": pl.String,
        "mix": pl.Float64,
        "activity": pl.Float64,
        "audience": pl.Int64,
        **{name: pl.Float64 for name in RATE_NAMES},
    }
)


@pytest.fixture(scope="module")
def tribe() -> SimulatedTribe:
    return simulate_tribe(seed=7)


@pytest.fixture(scope="module")
def events(tribe: SimulatedTribe) -> pl.DataFrame:
    return tribe.events


@pytest.fixture(scope="module")
def with_parents(events: pl.DataFrame) -> pl.DataFrame:
    """Non-post events joined to their parent (parent columns null when outside the data)."""
    parents = events.select(
        pl.col("event_id").alias("parent_id"),
        pl.col("timestamp").alias("parent_time"),
        pl.col("actor_id").alias("parent_actor"),
        pl.col("thread_id").alias("parent_thread"),
        pl.col("action").alias("parent_action"),
    )
    return events.filter(pl.col("action") != "post").join(
        parents, on="parent_id", how="left", maintain_order="left"
    )


def leader_roots(tribe: SimulatedTribe) -> pl.DataFrame:
    return tribe.events.filter(
        (pl.col("action") == "post") & pl.col("actor_id").is_in(tribe.leaders)
    ).select(pl.col("event_id").alias("root"), pl.col("actor_id").alias("leader_id"), "mentions")


def first_level_answered(tribe: SimulatedTribe) -> pl.DataFrame:
    """First-level comments by others on leader root posts, and whether the leader answered."""
    ev = tribe.events
    roots = leader_roots(tribe).select("root", "leader_id")
    comments = (
        ev.filter(pl.col("action") == "reply")
        .join(roots, left_on="parent_id", right_on="root")
        .filter(pl.col("actor_id") != pl.col("leader_id"))
        .select("event_id", "leader_id")
    )
    answers = (
        ev.filter(pl.col("action") == "reply")
        .select(pl.col("parent_id").alias("event_id"), pl.col("actor_id").alias("leader_id"))
        .unique()
        .with_columns(answered=pl.lit(True))
    )
    return comments.join(answers, on=["event_id", "leader_id"], how="left").with_columns(
        pl.col("answered").fill_null(False)
    )


def observed_vs_planted(tribe: SimulatedTribe, per_leader: pl.DataFrame, rate: str) -> pl.DataFrame:
    """Per style: observed share (pooled over leaders) and the planted rate weighted alike."""
    return (
        per_leader.join(tribe.truth, on="leader_id")
        .group_by("style")
        .agg(
            observed=pl.col("hits").sum() / pl.col("n").sum(),
            planted=(pl.col(rate) * pl.col("n")).sum() / pl.col("n").sum(),
            n=pl.col("n").sum(),
        )
        .sort("style")
    )


# ----------------------------------------------------------------------- shape


def test_events_have_the_canonical_schema(events: pl.DataFrame) -> None:
    assert events.schema == SCHEMA
    assert events.height > 1000
    assert events.get_column("platform").unique().to_list() == ["synthetic"]
    assert events.get_column("text").null_count() == events.height
    assert events.get_column("mentions").null_count() == 0
    assert events.get_column("thread_id").null_count() == 0
    assert validate_events(events) == []


def test_default_size_is_moderate() -> None:
    n = simulate_tribe().events.height
    assert 30_000 <= n <= 150_000


def test_truth_columns_and_leaders(tribe: SimulatedTribe) -> None:
    truth = tribe.truth
    assert truth.schema == TRUTH_SCHEMA
    assert truth.height == 40
    assert tribe.leaders == [f"L{i:03d}" for i in range(1, 41)]
    assert truth.get_column("leader_id").is_sorted()
    assert set(truth.get_column("style")) == set(STYLES)
    assert (truth.get_column("audience") >= 5).all()
    actors = set(tribe.events.get_column("actor_id").unique())
    assert set(tribe.leaders) <= actors
    members = actors - set(tribe.leaders)
    assert members and all(m.startswith("m") and len(m) == 6 for m in members)


def test_truth_rates_are_the_planted_table(tribe: SimulatedTribe) -> None:
    for row in tribe.truth.iter_rows(named=True):
        expected = planted_rates(row["style"], row["mix"])
        assert {name: row[name] for name in RATE_NAMES} == pytest.approx(expected)


def test_sorted_by_time_then_id_with_unique_ids(events: pl.DataFrame) -> None:
    assert events.get_column("event_id").is_unique().all()
    assert events.equals(events.sort("timestamp", "event_id"))
    assert events.get_column("event_id").head(2).to_list() == ["e000000001", "e000000002"]


def test_timestamps_within_window() -> None:
    ev = simulate_tribe(n_leaders=3, n_members=80, days=4, start="2023-06-01T12:00:00+02:00").events
    first, last = ev.get_column("timestamp").min(), ev.get_column("timestamp").max()
    assert str(first) >= "2023-06-01 10:00:00+00:00"
    assert str(last) < "2023-06-05 10:00:00+00:00"


# ------------------------------------------------------------------ integrity


def test_posts_are_roots(events: pl.DataFrame) -> None:
    posts = events.filter(pl.col("action") == "post")
    assert posts.get_column("parent_id").null_count() == posts.height
    assert posts.get_column("target_actor_id").null_count() == posts.height
    assert (posts.get_column("thread_id") == posts.get_column("event_id")).all()


def test_every_non_post_has_a_parent(with_parents: pl.DataFrame) -> None:
    assert with_parents.get_column("parent_id").null_count() == 0


def test_parents_precede_children(with_parents: pl.DataFrame) -> None:
    inside = with_parents.filter(pl.col("parent_time").is_not_null())
    assert (inside.get_column("parent_time") < inside.get_column("timestamp")).all()
    assert (inside.get_column("parent_id") < inside.get_column("event_id")).all()


def test_thread_and_target_follow_the_parent(with_parents: pl.DataFrame) -> None:
    inside = with_parents.filter(pl.col("parent_time").is_not_null())
    assert (inside.get_column("target_actor_id") == inside.get_column("parent_actor")).all()
    assert (inside.get_column("thread_id") == inside.get_column("parent_thread")).all()
    # Shares and reactions act on posts (or replies); replies nest, which gives depth.
    assert "reply" in set(inside.filter(pl.col("action") == "reply").get_column("parent_action"))


def test_a_few_parents_are_outside_the_data(with_parents: pl.DataFrame) -> None:
    outside = with_parents.filter(pl.col("parent_time").is_null())
    assert 0 < outside.height < 0.01 * with_parents.height
    assert set(outside.get_column("action")) == {"reply"}
    assert outside.get_column("target_actor_id").null_count() == outside.height
    assert (outside.get_column("thread_id") == outside.get_column("parent_id")).all()
    assert outside.get_column("parent_id").str.starts_with("x").all()


def test_leaders_have_some_self_replies_and_self_shares(
    tribe: SimulatedTribe, with_parents: pl.DataFrame
) -> None:
    own = with_parents.filter(
        pl.col("actor_id").is_in(tribe.leaders) & (pl.col("actor_id") == pl.col("parent_actor"))
    )
    counts = own.get_column("action").value_counts().sort("action")
    found = dict(zip(counts["action"].cast(pl.String), counts["count"], strict=True))
    assert found.get("reply", 0) > 0
    assert found.get("share", 0) > 0
    n_roots = leader_roots(tribe).height
    assert found.get("reply", 0) + found.get("share", 0) < 0.1 * n_roots


def test_mentions_name_members_only(tribe: SimulatedTribe, events: pl.DataFrame) -> None:
    mentioned = events.get_column("mentions").explode().drop_nulls().unique()
    assert mentioned.len() > 0
    assert mentioned.str.starts_with("m").all()
    self_mentions = events.filter(pl.col("mentions").list.contains(pl.col("actor_id")))
    assert self_mentions.height == 0
    with_mentions = events.filter(pl.col("mentions").list.len() > 0)
    assert set(with_mentions.get_column("action")) == {"post"}
    assert (
        with_mentions.get_column("mentions").list.n_unique()
        == with_mentions.get_column("mentions").list.len()
    ).all()


# ------------------------------------------------------------- determinism


def test_same_seed_same_frames() -> None:
    a = simulate_tribe(n_leaders=6, n_members=200, days=10, seed=11)
    b = simulate_tribe(n_leaders=6, n_members=200, days=10, seed=11)
    assert a.events.equals(b.events)
    assert a.truth.equals(b.truth)


def test_different_seed_different_events() -> None:
    a = simulate_tribe(n_leaders=6, n_members=200, days=10, seed=11)
    b = simulate_tribe(n_leaders=6, n_members=200, days=10, seed=12)
    assert not a.events.equals(b.events)


# ------------------------------------------------------------- planted rates


def test_answer_rate_is_recovered(tribe: SimulatedTribe) -> None:
    per_leader = (
        first_level_answered(tribe)
        .group_by("leader_id")
        .agg(n=pl.len(), hits=pl.col("answered").sum())
    )
    table = observed_vs_planted(tribe, per_leader, "p_answer")
    for row in table.iter_rows(named=True):
        assert row["n"] > 500
        assert row["observed"] == pytest.approx(row["planted"], abs=0.05), row
    broadcaster, participator = table.get_column("observed").to_list()
    assert participator > broadcaster + 0.3


def test_answer_rate_per_leader(tribe: SimulatedTribe) -> None:
    per_leader = (
        first_level_answered(tribe)
        .group_by("leader_id")
        .agg(n=pl.len(), observed=pl.col("answered").mean())
        .join(tribe.truth, on="leader_id")
        .filter(pl.col("n") >= 100)
    )
    assert per_leader.height >= 20
    error = (per_leader.get_column("observed") - per_leader.get_column("p_answer")).abs()
    assert error.max() < 0.15


def test_mention_share_is_recovered(tribe: SimulatedTribe) -> None:
    per_leader = (
        leader_roots(tribe)
        .group_by("leader_id")
        .agg(n=pl.len(), hits=(pl.col("mentions").list.len() > 0).sum())
    )
    table = observed_vs_planted(tribe, per_leader, "p_mention")
    for row in table.iter_rows(named=True):
        assert row["observed"] == pytest.approx(row["planted"], abs=0.05), row
    broadcaster, participator = table.get_column("observed").to_list()
    assert participator > broadcaster + 0.3


def test_participators_see_comment_share_and_answer_faster(
    tribe: SimulatedTribe, with_parents: pl.DataFrame
) -> None:
    """Leader actions on members' root posts, per audience member, and answer latency."""
    on_members = with_parents.filter(
        pl.col("actor_id").is_in(tribe.leaders)
        & (pl.col("parent_action") == "post")
        & pl.col("parent_actor").str.starts_with("m")
    )
    per_leader = (
        tribe.truth.select("leader_id", "style", "audience")
        .join(
            on_members.group_by("actor_id")
            .agg(
                see=(pl.col("action") == "reaction").sum(),
                comment=(pl.col("action") == "reply").sum(),
                share=(pl.col("action") == "share").sum(),
            )
            .rename({"actor_id": "leader_id"}),
            on="leader_id",
            how="left",
        )
        .fill_null(0)
        .group_by("style")
        .agg((pl.col(c) / pl.col("audience")).median() for c in ("see", "comment", "share"))
        .sort("style")
    )
    broadcaster, participator = per_leader.iter_rows(named=True)
    for measure in ("see", "comment", "share"):
        assert participator[measure] > 3 * broadcaster[measure], measure

    roots = leader_roots(tribe).select("root", "leader_id")
    comments = with_parents.filter(pl.col("action") == "reply").join(
        roots, left_on="parent_id", right_on="root"
    )
    answers = (
        with_parents.filter(pl.col("action") == "reply")
        .join(
            comments.select(
                pl.col("event_id").alias("parent_id"), "leader_id", pl.col("timestamp").alias("t0")
            ),
            on="parent_id",
        )
        .filter(pl.col("actor_id") == pl.col("leader_id"))
        .with_columns(hours=(pl.col("timestamp") - pl.col("t0")).dt.total_seconds() / 3600)
        .join(tribe.truth.filter(pl.col("mix") == 0), on="leader_id")
        .group_by("style")
        .agg(pl.col("hours").median())
        .sort("style")
    )
    slow, fast = answers.get_column("hours").to_list()
    assert fast < 2 and slow > 5


def test_participator_threads_draw_more_people(tribe: SimulatedTribe) -> None:
    ev = tribe.events
    roots = leader_roots(tribe).select(pl.col("root").alias("thread_id"), "leader_id")
    per_root = (
        roots.join(
            ev.filter(pl.col("action") == "reply").select("thread_id", "actor_id"),
            on="thread_id",
            how="left",
        )
        .group_by("thread_id", "leader_id")
        .agg(
            participants=pl.col("actor_id")
            .filter(pl.col("actor_id") != pl.col("leader_id"))
            .n_unique()
        )
        .join(tribe.truth.select("leader_id", "style"), on="leader_id")
        .group_by("style")
        .agg(pl.col("participants").mean())
        .sort("style")
    )
    broadcaster, participator = per_root.get_column("participants").to_list()
    assert participator > 1.5 * broadcaster


def test_activity_is_independent_of_style() -> None:
    tribe = simulate_tribe(n_leaders=200, n_members=400, days=20, seed=3)
    roots = leader_roots(tribe).group_by("leader_id").agg(posts=pl.len())
    table = tribe.truth.join(roots, on="leader_id", how="left").with_columns(
        pl.col("posts").fill_null(0), participator=(pl.col("style") == "participator").cast(int)
    )
    for column in ("posts", "activity", "audience"):
        rho = table.select(pl.corr(pl.col(column).rank(), pl.col("participator").rank())).item()
        assert abs(rho) < 0.2, column
    medians = table.group_by("style").agg(pl.col("posts").median()).get_column("posts")
    assert medians.max() / medians.min() < 1.5


# --------------------------------------------------------------- arguments


def test_explicit_styles_all_broadcasters() -> None:
    tribe = simulate_tribe(n_leaders=5, n_members=150, days=10, styles=["broadcaster"] * 5, seed=2)
    assert tribe.truth.get_column("style").to_list() == ["broadcaster"] * 5


def test_explicit_styles_keep_their_order() -> None:
    styles = ["participator", "broadcaster", "broadcaster", "participator"]
    tribe = simulate_tribe(n_leaders=4, n_members=100, days=5, styles=styles, mixed_share=0)
    assert tribe.truth.get_column("style").to_list() == styles
    assert (tribe.truth.get_column("mix") == 0).all()


@pytest.mark.parametrize(("share", "expected"), [(0.0, 0), (0.5, 10), (1.0, 20)])
def test_participator_share(share: float, expected: int) -> None:
    truth = simulate_tribe(n_leaders=20, n_members=60, days=2, participator_share=share).truth
    assert (truth.get_column("style") == "participator").sum() == expected


def test_mixed_leaders(tribe: SimulatedTribe) -> None:
    mix = tribe.truth.get_column("mix")
    mixed = mix.filter(mix > 0)
    assert mixed.len() == 12  # 30% of 40
    assert mixed.min() >= MIX_RANGE[0] and mixed.max() <= MIX_RANGE[1]
    assert (mix.filter(mix <= 0) == 0).all()


def test_planted_rates_mix_linearly() -> None:
    b, p = planted_rates("broadcaster"), planted_rates("participator")
    assert tuple(b) == RATE_NAMES
    assert b["p_answer"] < p["p_answer"] and b["p_mention"] < p["p_mention"]
    mixed = planted_rates("participator", mix=0.4)
    for name in RATE_NAMES:
        assert mixed[name] == pytest.approx(0.6 * p[name] + 0.4 * b[name])


def test_estimate_events_is_close_and_linear() -> None:
    kwargs = {"n_leaders": 10, "n_members": 500, "days": 30, "seed": 5}
    actual = simulate_tribe(**kwargs).events.height
    estimate = estimate_events(**kwargs)
    assert estimate == pytest.approx(actual, rel=0.15)
    assert estimate_events(**kwargs, activity_scale=3) == pytest.approx(3 * estimate, abs=2)


def test_activity_scale_multiplies_volume() -> None:
    small = simulate_tribe(n_leaders=8, n_members=300, days=20, seed=4).events.height
    large = simulate_tribe(n_leaders=8, n_members=300, days=20, seed=4, activity_scale=3).events
    assert large.height == pytest.approx(3 * small, rel=0.15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_leaders": 0}, "n_leaders must be an integer >= 1, got 0"),
        ({"n_leaders": 2, "styles": ["broadcaster", "influencer"]}, "'influencer'"),
        ({"n_leaders": 3, "styles": ["broadcaster"]}, "styles has 1 entries"),
        ({"styles": "broadcaster"}, "styles must be a sequence"),
        ({"n_members": 1}, "n_members must be .* got 1"),
        ({"days": 0}, "days must be a positive number, got 0"),
        ({"participator_share": 1.5}, "participator_share .* got 1.5"),
        ({"mixed_share": -0.1}, "mixed_share .* got -0.1"),
        ({"activity_scale": 0}, "activity_scale must be a positive number, got 0"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"start": "last tuesday"}, "'last tuesday'"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate_tribe(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        estimate_events(**kwargs)  # type: ignore[arg-type]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="n_leaders.*days"):
        simulate_tribe(n_leaders=0, days=-1)


@pytest.mark.parametrize(
    ("style", "mix", "message"),
    [
        ("influencer", 0.0, "'influencer'.*'broadcaster', 'participator'"),
        ("broadcaster", 0.5, "0.5"),
    ],
)
def test_planted_rates_bad_arguments(style: str, mix: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        planted_rates(style, mix)


def test_ids_widen_for_many_accounts() -> None:
    tribe = simulate_tribe(n_leaders=1000, n_members=2000, days=1, activity_scale=0.2, seed=1)
    assert tribe.leaders[0] == "L0001" and tribe.leaders[-1] == "L1000"
    members = tribe.events.filter(pl.col("actor_id").str.starts_with("m")).get_column("actor_id")
    assert members.str.len_chars().unique().to_list() == [6]
    assert np.isin(tribe.truth.get_column("style").to_numpy(), STYLES).all()
