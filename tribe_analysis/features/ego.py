"""Ego-network measures of the leaders (the super-linear graph measures, on ego networks only)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from tribe_analysis import graph
from tribe_analysis.features._scope import Scope


def _ego(lf: pl.LazyFrame, leaders: Sequence[str], by: Sequence[str]) -> pl.DataFrame:
    """Ego-network measures per leader (and window): built from the edges near each leader only."""
    if not by:
        return graph.ego_measures(graph.edge_list(lf), leaders)
    windows = lf.select(by).unique().sort(by).collect()
    if windows.is_empty():  # no event in the period: no window, no row (not a failed concat)
        start = pl.lit(None, lf.collect_schema()["window_start"]).alias("window_start")
        return graph.ego_measures(graph.edge_list(lf), leaders).clear().with_columns(start)
    parts = []
    for (start,) in windows.iter_rows():
        edges = graph.edge_list(lf.filter(pl.col("window_start") == start))
        parts.append(
            graph.ego_measures(edges, leaders).with_columns(pl.lit(start).alias("window_start"))
        )
    return pl.concat(parts)


def ego(scope: Scope, edges: pl.DataFrame | None = None) -> pl.DataFrame:
    """Ego-network measures per leader (and window), from ``edges`` when given (whole period)."""
    if edges is not None:
        return graph.ego_measures(edges, scope.leaders)
    return _ego(scope.lf, scope.leaders, scope.by)
