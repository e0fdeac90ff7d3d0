"""Conversations on the leader's root posts: participants, depth, focus, yield, dialogic loops."""

from __future__ import annotations

import polars as pl

from tribe_analysis import events as ev
from tribe_analysis.features._scope import POST, REPLY, Scope


def _depths(events: pl.DataFrame | pl.LazyFrame, leaders: list[str] | None = None) -> pl.LazyFrame:
    """``event_id`` and reply ``depth``; with ``leaders``, only in threads of their posts.

    Every ancestor of a reply is in the reply's thread, so the depths within the
    leaders' threads are those of the whole input, at a fraction of the cost.
    """
    lf = events.lazy()
    if leaders is not None:
        roots = lf.filter(POST, pl.col("actor_id").is_in(leaders)).select(
            pl.col("event_id").alias("thread_id")
        )
        lf = lf.join(roots, on="thread_id", how="semi")
    frame = lf.select("event_id", "parent_id").collect()
    return frame.select("event_id").with_columns(ev.reply_depths(frame)).lazy()


def _thread_replies(scope: Scope) -> pl.LazyFrame:
    """Per (leader, root post) with replies: participants, others' replies, depth, leader replied."""
    own, leader = scope.own, pl.col("leader_id")
    return (
        scope.lf.filter(REPLY)
        .join(_depths(scope.events, scope.leaders), on="event_id", how="left")
        .join(
            own.filter(POST).select("leader_id", pl.col("event_id").alias("thread_id")),
            on="thread_id",
        )
        .group_by("leader_id", "thread_id")
        .agg(
            pl.col("actor_id")
            .filter(pl.col("actor_id") != leader)
            .n_unique()
            .alias("participants"),
            (pl.col("actor_id") != leader).sum().alias("others_replies"),
            ((pl.col("actor_id") == leader) & (pl.col("target_actor_id") != leader))
            .any()
            .alias("leader_replied"),
            pl.col("depth").max().alias("depth"),
        )
    )


def conversations(scope: Scope) -> pl.LazyFrame:
    """Thread medians (``participants``, ``depth``, ``focus_ratio``, ``conversation_yield``) and counts.

    Counts: ``conversation_posts`` (root posts), ``drew_comment`` (those others
    replied to), ``loops`` (those that also hold a reply of the leader to another
    account), ``discussions`` (those that drew replies from two or more other
    accounts) and ``started`` (discussions that hold a reply of the leader to
    another account: a conversation the leader started and took part in).
    """
    keys = scope.keys
    return (
        scope.own.filter(POST)
        .select(*keys, pl.col("event_id").alias("thread_id"))
        .join(_thread_replies(scope), on=["leader_id", "thread_id"], how="left")
        .with_columns(
            pl.col("participants", "others_replies", "depth").fill_null(0),
            pl.col("leader_replied").fill_null(False),
        )
        .with_columns(
            pl.when(pl.col("participants") > 0)
            .then(pl.col("others_replies") / pl.col("participants"))
            .alias("focus_ratio"),
            (pl.col("others_replies") > 0).alias("drew_comment"),
        )
        .group_by(keys)
        .agg(
            pl.len().alias("conversation_posts"),
            pl.col("participants").median(),
            pl.col("depth").median(),
            pl.col("focus_ratio").median(),
            pl.col("others_replies").median().alias("conversation_yield"),
            pl.col("drew_comment").sum().alias("drew_comment"),
            (pl.col("drew_comment") & pl.col("leader_replied")).sum().alias("loops"),
            (pl.col("participants") >= 2).sum().alias("discussions"),
            ((pl.col("participants") >= 2) & pl.col("leader_replied")).sum().alias("started"),
        )
    )
