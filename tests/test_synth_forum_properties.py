"""Property tests of :func:`tribe_analysis.synth_forum.simulate_forum` on small tribes.

Each property is a promise of the module docstring or of ``simulate_forum``'s: every
parent is in the data and strictly precedes its child, no self or duplicate
reactions/shares, no self-mentions, events inside the period, platform variants
hide what they say, one truth row per leader; the package's canonical writer and
reader (:mod:`tribe_analysis.events`) are the oracle for "canonical events".
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis.synth_forum import PLATFORMS, START, STYLES, simulate_forum

VARIANTS = st.lists(st.sampled_from(PLATFORMS), min_size=1, max_size=3, unique=True)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_leaders=st.integers(1, 4),
    n_members=st.none() | st.integers(6, 40),
    days=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
    design=st.sampled_from(["forum", "microblog"]),
    mixed_share=st.sampled_from([0.0, 0.4, 1.0]),
    styles=st.none() | st.sampled_from(STYLES),
    platform=VARIANTS,
)
def test_small_tribes_keep_the_documented_promises(
    tmp_path: Path,
    n_leaders: int,
    n_members: int | None,
    days: int,
    seed: int,
    design: str,
    mixed_share: float,
    styles: str | None,
    platform: list[str],
) -> None:
    tribe = simulate_forum(
        n_leaders=n_leaders, n_members=n_members, days=days, seed=seed, design=design,
        mixed_share=mixed_share, styles=styles, platform=platform,
    )  # fmt: skip
    events = tribe.events
    assert tribe.leaders == tribe.truth["leader_id"].to_list() and len(tribe.leaders) == n_leaders
    if styles is not None:
        assert set(tribe.truth["style"]) == {styles}
    assert ev.validate_events(events) == [] and events.schema == ev.SCHEMA
    assert events.equals(events.sort("timestamp", "event_id"))
    times = events["timestamp"]
    assert times.min() >= START and times.max() < START + timedelta(days=days)  # type: ignore[operator]

    parents = events.select(
        pl.col("event_id").alias("parent_id"),
        pl.col("timestamp").alias("parent_time"),
        pl.col("actor_id").alias("parent_actor"),
        pl.col("thread_id").alias("parent_thread"),
    )
    child = events.filter(pl.col("action") != "post").join(parents, on="parent_id", how="left")
    assert child["parent_time"].null_count() == 0  # every parent is in the data
    assert (child["parent_time"] < child["timestamp"]).all()
    assert child["target_actor_id"].equals(child["parent_actor"], check_names=False)
    assert child["thread_id"].equals(child["parent_thread"], check_names=False)
    leaf = child.filter(pl.col("action").is_in(["share", "reaction"]))
    assert not (leaf["actor_id"] == leaf["parent_actor"]).any()
    assert not leaf.select("actor_id", "action", "parent_id").is_duplicated().any()
    mentioned = events.explode("mentions").drop_nulls("mentions")
    assert not (mentioned["mentions"] == mentioned["actor_id"]).any()
    assert (events["mentions"].list.n_unique() == events["mentions"].list.len()).all()

    hidden = {"no_reactions": "reaction", "no_shares": "share"}
    for variant, action in hidden.items():
        if variant in platform:
            assert action not in set(events["action"])
    if "no_mentions" in platform:
        assert mentioned.height == 0
    path = tmp_path / "events.parquet"
    ev.write_events(events, path)
    assert ev.read_events(path).equals(events)
