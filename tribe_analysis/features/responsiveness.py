"""Responsiveness: the comments of others on the leader's root posts that the leader answered."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import POST, REPLY, Scope


def responsiveness(scope: Scope) -> pl.LazyFrame:
    """``reply_rate_num``, ``reply_rate_den`` and ``reply_latency_h`` (median hours to answer)."""
    own = scope.own
    own_posts = own.filter(POST).select("leader_id", pl.col("event_id").alias("parent_id"))
    comments = (
        scope.lf.filter(REPLY)
        .join(own_posts, on="parent_id")
        .filter(pl.col("actor_id") != pl.col("leader_id"))
    )
    answers = (
        own.filter(REPLY)
        .group_by("leader_id", "parent_id")
        .agg(pl.col("timestamp").min().alias("answered_at"))
        .rename({"parent_id": "event_id"})
    )
    answered = comments.join(answers, on=["leader_id", "event_id"], how="left").with_columns(
        ((pl.col("answered_at") - pl.col("timestamp")).dt.total_microseconds() / 3.6e9).alias(
            "latency_h"
        )
    )
    return answered.group_by(scope.keys).agg(
        pl.len().alias("reply_rate_den"),
        pl.col("answered_at").is_not_null().sum().alias("reply_rate_num"),
        pl.col("latency_h").drop_nulls().median().alias("reply_latency_h"),
    )
