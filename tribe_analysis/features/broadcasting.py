"""Broadcasting: posts that mention no other account."""

from __future__ import annotations

import polars as pl

from tribe_analysis.features._scope import OTHERS_MENTIONED, POST, Scope
from tribe_analysis.features.activity import own_rows


def broadcasting(scope: Scope) -> pl.LazyFrame:
    """``posts_silent``: the leader's posts that mention no other account."""
    return (
        own_rows(scope)
        .group_by(scope.keys)
        .agg(
            (POST & (OTHERS_MENTIONED.list.len() == 0)).sum().alias("posts_silent"),
        )
    )
