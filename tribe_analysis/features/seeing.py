"""Seeing: the tribe's root posts the leader engaged with, and the members who come to it engaged."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import TO_OTHER, Scope, merge
from tribe_analysis.features.reciprocity import tribe_pairs

_ENGAGING = ("reply", "share", "reaction")


def seeing(scope: Scope) -> pl.LazyFrame:
    """``see_num``, ``see_den`` (tribe root posts engaged, all of them), ``see_breadth_num`` and ``see_breadth_den``.

    A post counts as engaged when the leader replied to, shared or reacted to it
    at any time in the period. ``see_breadth_den`` counts the members who acted
    on the leader (replied to, shared, reacted to or mentioned it: the tribe that
    comes to it), ``see_breadth_num`` those of them whose content the leader
    replied to, shared or reacted to. The members the leader reached on its own
    are left out of both: they are in the tribe *because* the leader engaged
    them, and counting them made a leader with a small audience look as if it
    had seen all of its tribe.
    """
    keys, by, lf, own = scope.keys, scope.by, scope.lf, scope.own
    engaged = (
        own.filter(pl.col("action").is_in(_ENGAGING) & pl.col("parent_id").is_not_null())
        .select("leader_id", pl.col("parent_id").alias("event_id"))
        .unique()
        .with_columns(pl.lit(True).alias("engaged"))
    )
    pairs = tribe_pairs(lf, scope.leaders, by=by)
    tribe_posts = (
        pairs.select(*keys, "alter_id")
        .join(
            lf.filter(pl.col("action") == "post").select(
                pl.col("actor_id").alias("alter_id"), "event_id", *by
            ),
            on=["alter_id", *by],
        )
        .join(engaged, on=["leader_id", "event_id"], how="left")
        .group_by(keys)
        .agg(pl.len().alias("see_den"), pl.col("engaged").sum().alias("see_num"))
    )
    seen_alters = (
        own.filter(pl.col("action").is_in(_ENGAGING) & TO_OTHER)
        .select(*keys, pl.col("target_actor_id").alias("alter_id"))
        .unique()
        .with_columns(pl.lit(True).alias("seen"))
    )
    audience = (
        pairs.filter(pl.col("in") > 0)
        .select(*keys, "alter_id")
        .join(seen_alters, on=[*keys, "alter_id"], how="left")
        .group_by(keys)
        .agg(pl.len().alias("see_breadth_den"), pl.col("seen").sum().alias("see_breadth_num"))
    )
    return merge(keys, tribe_posts, audience)
