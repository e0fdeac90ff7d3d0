"""Responsiveness: the replies of others to the leader that the leader answered."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import POST, REPLY, Scope, merge


def _answers(own: pl.LazyFrame) -> pl.LazyFrame:
    """``leader_id``, ``event_id`` (a reply's id) and ``answered_at``: the leader's first answer."""
    return (
        own.filter(REPLY)
        .group_by("leader_id", "parent_id")
        .agg(pl.col("timestamp").min().alias("answered_at"))
        .rename({"parent_id": "event_id"})
    )


def responsiveness(scope: Scope) -> pl.LazyFrame:
    """``reply_rate_num``/``_den``, ``reply_latency_h`` and ``answer_rate_num``/``_den``.

    ``reply_rate``: the first-level comments of others on the leader's root posts
    that the leader answered (``reply_latency_h``: median hours to the answer).
    ``answer_rate``: every reply of another account addressed to the leader,
    wherever it is (on its posts, under its comments in others' threads), that
    the leader answered — answering those who answer, one behaviour per reply.
    """
    own = scope.own
    answers = _answers(own)
    own_posts = own.filter(POST).select("leader_id", pl.col("event_id").alias("parent_id"))
    comments = (
        scope.lf.filter(REPLY)
        .join(own_posts, on="parent_id")
        .filter(pl.col("actor_id") != pl.col("leader_id"))
    )
    # an answer dated before the comment (senders' clocks) was given at once, never in the past
    hours = (pl.col("answered_at") - pl.col("timestamp")).dt.total_microseconds() / 3.6e9
    answered = comments.join(answers, on=["leader_id", "event_id"], how="left").with_columns(
        hours.clip(lower_bound=0).alias("latency_h")
    )
    on_posts = answered.group_by(scope.keys).agg(
        pl.len().alias("reply_rate_den"),
        pl.col("answered_at").is_not_null().sum().alias("reply_rate_num"),
        pl.col("latency_h").drop_nulls().median().alias("reply_latency_h"),
    )
    to_leader = (
        scope.lf.filter(REPLY, pl.col("actor_id") != pl.col("target_actor_id"))
        .join(scope.lead, left_on="target_actor_id", right_on="leader_id", how="semi")
        .with_columns(pl.col("target_actor_id").alias("leader_id"))
        .join(answers, on=["leader_id", "event_id"], how="left")
        .group_by(scope.keys)
        .agg(
            pl.len().alias("answer_rate_den"),
            pl.col("answered_at").is_not_null().sum().alias("answer_rate_num"),
        )
    )
    return merge(scope.keys, on_posts, to_leader)
