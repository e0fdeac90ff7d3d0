"""The tribe of each leader and its reciprocity: alters, interactions given and received."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from tribe_analysis import graph
from tribe_analysis.features._scope import Scope


def tribe_pairs(
    events: pl.DataFrame | pl.LazyFrame, leaders: Sequence[str], *, by: Sequence[str] = ()
) -> pl.LazyFrame:
    """The tribe of each leader: one row per (leader, alter) with interaction counts.

    T(L) holds the accounts other than L that L acted on (replied to, shared,
    reacted to, mentioned) or that acted on L. Columns: ``leader_id``, the
    ``by`` keys, ``alter_id``, ``out`` (L's interactions towards the alter),
    ``in`` (the alter's towards L).

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=10, seed=1)
    >>> pairs = tribe_pairs(tribe.events, tribe.leaders).collect()
    >>> pairs.columns
    ['leader_id', 'alter_id', 'out', 'in']
    """
    inter = graph.interactions(events, keep=by)
    lead = pl.LazyFrame({"leader_id": list(leaders)}, schema={"leader_id": pl.String})
    out = inter.join(lead, left_on="source", right_on="leader_id", how="semi").select(
        pl.col("source").alias("leader_id"),
        *by,
        pl.col("target").alias("alter_id"),
        pl.lit(1, pl.UInt32).alias("out"),
        pl.lit(0, pl.UInt32).alias("in"),
    )
    inc = inter.join(lead, left_on="target", right_on="leader_id", how="semi").select(
        pl.col("target").alias("leader_id"),
        *by,
        pl.col("source").alias("alter_id"),
        pl.lit(0, pl.UInt32).alias("out"),
        pl.lit(1, pl.UInt32).alias("in"),
    )
    keys = ["leader_id", *by, "alter_id"]
    return pl.concat([out, inc]).group_by(keys).agg(pl.col("out").sum(), pl.col("in").sum())


def reciprocity(scope: Scope) -> pl.LazyFrame:
    """``tribe_size``, ``reciprocal_alters``, ``interactions_out`` and ``interactions_in``."""
    pairs = tribe_pairs(scope.lf, scope.leaders, by=scope.by)
    return pairs.group_by(scope.keys).agg(
        pl.len().alias("tribe_size"),
        ((pl.col("out") > 0) & (pl.col("in") > 0)).sum().alias("reciprocal_alters"),
        pl.col("out").sum().alias("interactions_out"),
        pl.col("in").sum().alias("interactions_in"),
    )
