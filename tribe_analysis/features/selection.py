"""Choosing the leaders: the accounts with the largest distinct audience."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import AUTHORED


def select_leaders(
    events: pl.DataFrame | pl.LazyFrame,
    *,
    top: int = 20,
    min_activity: int = 10,
    by: str = "audience",
) -> list[str]:
    """The ``top`` accounts by distinct audience, among those with enough activity.

    The audience of an account is the number of distinct *other* accounts that
    replied to, shared or reacted to its content. Accounts with fewer than
    ``min_activity`` authored actions (post, reply, share) are not candidates.
    Ties are broken by authored actions, then by id, so the choice is stable.

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events (``target_actor_id`` derived).
    top : int
        How many leaders to return.
    min_activity : int
        Minimum authored actions of a candidate.
    by : {"audience", "activity"}
        Rank by distinct audience (default) or by authored actions, for exports
        that hold no interactions with known authors (audience is then 0 for all).

    Returns
    -------
    list of str
        Leader ids, largest audience first.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=6, days=20, seed=3)
    >>> len(select_leaders(tribe.events, top=4))
    4
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    lf = events.lazy()
    audience = (
        lf.filter(
            pl.col("action").is_in(["reply", "share", "reaction"])
            & pl.col("target_actor_id").is_not_null()
            & (pl.col("target_actor_id") != pl.col("actor_id"))
        )
        .group_by(pl.col("target_actor_id").alias("actor_id"))
        .agg(pl.col("actor_id").n_unique().alias("audience"))
    )
    authored = (
        lf.filter(pl.col("action").is_in(AUTHORED))
        .group_by("actor_id")
        .agg(pl.len().alias("authored"))
    )
    if by not in ("audience", "activity"):
        raise ValueError(f"by must be 'audience' or 'activity', got {by!r}")
    if by == "activity":
        audience = authored.select("actor_id", pl.lit(0, pl.UInt32).alias("audience"))
    ranked = (
        audience.join(authored, on="actor_id", how="inner")
        .filter(pl.col("authored") >= min_activity)
        .sort(["audience", "authored", "actor_id"], descending=[True, True, False])
        .head(top)
        .collect()
    )
    return ranked.get_column("actor_id").to_list()
