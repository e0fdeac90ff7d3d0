"""Promotion: sharing others' content and mentioning others in one's posts."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import (
    OTHERS_MENTIONED,
    POST,
    SELF_TARGET,
    SHARE,
    TO_OTHER,
    Scope,
    merge,
)
from tribe_analysis.features.activity import own_rows


def promotion(scope: Scope) -> pl.LazyFrame:
    """``shares_of_others``, ``posts_mentioning``, ``promote_den`` and ``promoted_n``.

    ``promoted_n`` is the number of distinct other accounts shared or mentioned.
    """
    keys = scope.keys
    counts = (
        own_rows(scope)
        .group_by(keys)
        .agg(
            (SHARE & ~SELF_TARGET).sum().alias("shares_of_others"),
            (POST & (OTHERS_MENTIONED.list.len() > 0)).sum().alias("posts_mentioning"),
            (POST | SHARE).sum().alias("promote_den"),
        )
    )
    promoted = (
        pl.concat(
            [
                scope.own.filter(SHARE & TO_OTHER).select(
                    *keys, pl.col("target_actor_id").alias("alter_id")
                ),
                scope.own.filter(POST)
                .select(*keys, OTHERS_MENTIONED.alias("alter_id"))
                .explode("alter_id"),
            ]
        )
        .drop_nulls("alter_id")
        .group_by(keys)
        .agg(pl.col("alter_id").n_unique().alias("promoted_n"))
    )
    return merge(keys, counts, promoted)
