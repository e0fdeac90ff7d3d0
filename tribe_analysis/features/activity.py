"""The leader's own activity: counts by action, and the own events the other families start from."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import AUTHORED, POST, REPLY, SHARE, Scope


def own_rows(scope: Scope) -> pl.LazyFrame:
    """The leaders' own events with ``root_actor``, the author of the thread's root post."""
    root_actor = scope.lf.filter(pl.col("action") == "post").select(
        pl.col("event_id").alias("thread_id"), pl.col("actor_id").alias("root_actor")
    )
    return scope.own.join(root_actor, on="thread_id", how="left")


def activity(scope: Scope) -> pl.LazyFrame:
    """``posts``, ``replies``, ``shares``, ``reactions`` and ``authored`` per leader (and window)."""
    return (
        own_rows(scope)
        .group_by(scope.keys)
        .agg(
            POST.sum().alias("posts"),
            REPLY.sum().alias("replies"),
            SHARE.sum().alias("shares"),
            (pl.col("action") == "reaction").sum().alias("reactions"),
            pl.col("action").is_in(AUTHORED).sum().alias("authored"),
        )
    )
