"""Commenting: replies on others' threads, the accounts replied to, and their concentration."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import REPLY, SELF_TARGET, TO_OTHER, Scope, merge
from tribe_analysis.features.activity import own_rows


def commenting(scope: Scope) -> pl.LazyFrame:
    """``comment_n``, ``comment_targets``, ``replies_to_others`` and ``top5_replies``.

    ``comment_n`` counts replies in threads rooted by another account (or of
    unknown root); ``top5_replies`` the replies to others that go to the five
    accounts replied to most.
    """
    keys = scope.keys
    comments = (
        own_rows(scope)
        .group_by(keys)
        .agg(
            (
                REPLY
                & (pl.col("root_actor").is_null() | (pl.col("root_actor") != pl.col("leader_id")))
                & ~SELF_TARGET
            )
            .sum()
            .alias("comment_n"),
            pl.col("target_actor_id").filter(REPLY & TO_OTHER).n_unique().alias("comment_targets"),
            (REPLY & TO_OTHER).sum().alias("replies_to_others"),
        )
    )
    top5 = (
        scope.own.filter(REPLY & TO_OTHER)
        .group_by([*keys, "target_actor_id"])
        .len()
        .group_by(keys)
        .agg(pl.col("len").top_k(5).sum().alias("top5_replies"))
    )
    return merge(keys, comments, top5)
