"""Per-leader engagement measures, pure functions over polars frames.

Every measure follows ``docs/methods.md`` (definitions, null rules, literature).
A rate ``x`` comes with ``x_num`` and ``x_den``, a Jeffreys interval
``x_low``/``x_high``, and is null when ``x_den`` is under ``min_denominator``
(default 5). A measure whose signal the input does not show — the platform does
not expose it, or no record of the input carries it
(:func:`tribe_analysis.observability.observe`) — is null, never 0.
Self-interactions (self-replies, sharing or mentioning oneself) never count as
engagement. The participation index is defined once, in
:mod:`tribe_analysis.participation`.

The work is a handful of joins and group-bys over a lazy frame; no Python loop
runs per event or per actor. Graph measures that are super-linear run on the
leaders' ego networks only (:func:`tribe_analysis.graph.ego_measures`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import polars as pl

from tribe_analysis import events as ev
from tribe_analysis import observability as obs
from tribe_analysis import participation
from tribe_analysis.features import (
    activity,
    broadcasting,
    commenting,
    conversations,
    promotion,
    reciprocity,
    responsiveness,
    seeing,
)
from tribe_analysis.features._rates import COUNTS, NEEDS, finish, unobserved_measures
from tribe_analysis.features._rates import _rate as _rate
from tribe_analysis.features._scope import COLUMNS, Scope, scope
from tribe_analysis.features._scope import _utc as _utc
from tribe_analysis.features.conversations import _depths as _depths
from tribe_analysis.features.ego import _ego as _ego
from tribe_analysis.features.ego import ego as _ego_table
from tribe_analysis.features.reciprocity import tribe_pairs
from tribe_analysis.features.selection import PSEUDO_ACCOUNTS, is_pseudo_account, select_leaders

__all__ = [
    "MEASURES",
    "PARTICIPATION_PARTS",
    "NEEDS",
    "PSEUDO_ACCOUNTS",
    "RATES",
    "is_pseudo_account",
    "leader_measures",
    "signals_of",
    "unobserved_measures",
    "select_leaders",
    "with_ego",
    "tribe_pairs",
]

RATES: tuple[str, ...] = (
    "see_coverage",
    "see_breadth",
    "comment_share",
    "reply_concentration",
    "reply_rate",
    "answer_rate",
    "conversation_share",
    "dialogic_loop_share",
    "promotion_share",
    "mention_share",
    "promoted_breadth",
    "broadcast_share",
    "unanswered_share",
    "alter_reciprocity",
)
"""Measures stored with ``_num``, ``_den``, ``_low`` and ``_high`` columns."""

PARTICIPATION_PARTS: tuple[str, ...] = tuple(participation.PARTS)
"""Rates averaged (where observed) into ``participation_index``: one per way of participating."""

MEASURES: tuple[str, ...] = (
    *participation.index_columns(),
    *RATES,
    "comment_targets",
    "reply_latency_h",
    "participants",
    "depth",
    "focus_ratio",
    "conversation_yield",
    "give_receive_log_ratio",
    "ego_size",
    "ego_density",
    "ego_clustering",
    "ego_effective_size",
    "ego_constraint",
)
"""Measure columns of :func:`leader_measures`, in output order (after keys and counts)."""

_FAMILIES: tuple[Callable[[Scope], pl.LazyFrame], ...] = (
    activity.activity,
    commenting.commenting,
    promotion.promotion,
    reciprocity.reciprocity,
    seeing.seeing,
    responsiveness.responsiveness,
    conversations.conversations,
    broadcasting.broadcasting,
)
"""Measure families: each gives its raw columns keyed by leader (and window)."""


def leader_measures(
    events: pl.DataFrame | pl.LazyFrame,
    leaders: Iterable[str],
    *,
    every: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    min_denominator: int = 5,
    observability: Mapping[str, bool] | pl.DataFrame | None = None,
    ego: bool = True,
    edges: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every engagement measure of DESIGN.md section 5, one row per leader (per window).

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events with ``thread_id`` and ``target_actor_id`` derived
        (as :func:`tribe_analysis.events.read_events` and every reader return them).
    leaders : iterable of str
        Leader ids (see :func:`select_leaders`). A leader without events gets a
        row of zero counts and null measures.
    every : str, optional
        Window length as a polars duration (``"1mo"``, ``"1w"``, ``"14d"``);
        windows start at calendar boundaries (``dt.truncate``). Without it the
        whole period is one window.
    since, until : datetime or ISO-8601 str, optional
        Keep events with ``since <= timestamp < until`` (UTC).
    min_denominator : int
        Rates with a smaller denominator are null (their interval says the rest).
    observability : mapping or polars.DataFrame, optional
        What the platform exposes (a reader's ``observability``: keys
        ``reaction``, ``share``, ``mention``, ``reply``; all by default), from
        which :func:`tribe_analysis.observability.observe` decides each signal
        on the whole ``events``; or such an :func:`observe` table itself. A
        measure that needs an unobservable signal (:data:`NEEDS`) is null.
    ego : bool
        Compute the ego-network measures (the slowest part on large inputs).
    edges : polars.DataFrame, optional
        :func:`tribe_analysis.graph.edge_list` of the same ``events``, to reuse
        for the ego networks (a caller that also exports the graph computes it
        once). Only for the whole period: an error with ``every``, ``since`` or
        ``until``.

    Returns
    -------
    polars.DataFrame
        Columns: ``leader_id`` (and ``window_start``, ``window_end`` with
        ``every``), the counts ``posts``, ``replies``, ``shares``,
        ``reactions``, ``authored``, ``tribe_size``, ``interactions_out``,
        ``interactions_in``, then :data:`MEASURES` with the ``_num``,
        ``_den``, ``_low`` and ``_high`` of each rate. Sorted by leader (and
        window). Definitions in ``docs/methods.md``.

    Raises
    ------
    ValueError
        When ``every`` is not a positive polars duration, ``since`` or ``until``
        cannot be read (or has no time zone), ``since`` is not before ``until``,
        or ``edges`` is given with ``every``, ``since`` or ``until``; when ``events``
        lack a column or hold one of a type that cannot be read as the canonical one
        (:func:`tribe_analysis.events.usable_events`).
    TypeError
        When ``leaders`` is a single string (one leader is ``["ann"]``) or holds
        something that is not an id; when ``min_denominator`` is not a whole number.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=30, seed=2)
    >>> m = leader_measures(tribe.events, tribe.leaders)
    >>> m.height, m.get_column("participation_index").is_between(0, 1).all()
    (4, True)
    >>> m.select("parts_observed").to_series().to_list()
    [5, 5, 5, 5]
    """
    leaders = ev.leader_ids(leaders)
    min_denominator = ev.whole_number(min_denominator, "min_denominator")
    events = ev.usable_events(events, COLUMNS)
    if edges is not None and (every or since or until):
        raise ValueError("edges= is the whole period's edge list: not with every, since or until")
    seen = signals_of(events, observability)
    sc = scope(events, leaders, every, since, until)
    result = finish(_joined(sc), min_denominator, seen).collect()
    result = participation.participation_index(participation.rate_intervals(result, RATES))
    result = _with_ego(result, _ego_table(sc, edges) if ego else None, sc.keys)
    if every is not None:  # windowed (sc.by)
        result = result.with_columns(pl.col("window_start").dt.offset_by(every).alias("window_end"))
    return result.select(_ordered(sc)).sort(sc.keys)


def with_ego(measures: pl.DataFrame, ego: pl.DataFrame) -> pl.DataFrame:
    """``measures`` of the whole period (:func:`leader_measures` with ``ego=False``) with their ego columns.

    ``ego`` is :func:`tribe_analysis.graph.ego_measures` of the same leaders (a
    distributed run computes it from its own edge list). Columns keep their order.

    Examples
    --------
    >>> from tribe_analysis import graph
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=20, seed=2)
    >>> bare = leader_measures(tribe.events, tribe.leaders, ego=False)
    >>> egos = graph.ego_measures(graph.edge_list(tribe.events), tribe.leaders)
    >>> with_ego(bare, egos).equals(leader_measures(tribe.events, tribe.leaders))
    True
    """
    order = measures.columns
    return _with_ego(measures, ego, ["leader_id"]).select(order)


def _with_ego(result: pl.DataFrame, ego: pl.DataFrame | None, keys: list[str]) -> pl.DataFrame:
    """``result`` with the ego columns of ``ego`` (null, and size 0, without it)."""
    result = result.drop([name for name in MEASURES if name.startswith("ego_")], strict=False)
    if ego is not None:
        result = result.join(ego, on=keys, how="left")
    else:
        result = result.with_columns(
            [pl.lit(None, pl.Float64).alias(name) for name in MEASURES if name.startswith("ego_")]
        )
    return result.with_columns(pl.col("ego_size").fill_null(0).cast(pl.Int64))


def _joined(sc: Scope) -> pl.LazyFrame:
    """Every family's columns on one row per leader (per window with data, when windowed)."""
    frames = [family(sc) for family in _FAMILIES]
    base = pl.concat([f.select(sc.keys) for f in frames]).unique() if sc.by else sc.lead
    for frame in frames:
        base = base.join(frame, on=sc.keys, how="left", coalesce=True)
    return base


def signals_of(
    events: pl.DataFrame | pl.LazyFrame | None,
    observability: Mapping[str, bool] | pl.DataFrame | None,
) -> dict[str, bool]:
    """Signal -> observable, from an :func:`~tribe_analysis.observability.observe` table or platform facts.

    Examples
    --------
    >>> signals_of(pl.DataFrame({"action": ["post"], "mentions": [["a"]],
    ...     "parent_id": [None], "target_actor_id": [None]}), {"reaction": False})
    {'reactions': False, 'shares': False, 'mentions': True, 'reply_parents': False, 'reply_answers': True, 'reply_chains': True}
    """
    if not isinstance(observability, pl.DataFrame):
        if events is None:
            raise ValueError("events are needed unless observability is an observe() table")
        observability = obs.observe(events, observability)
    return dict(observability.select("signal", "observable").iter_rows())


def _ordered(sc: Scope) -> list[str]:
    """Output columns: keys (and ``window_end``), counts, then each measure with its ``_num``/``_den``."""
    ordered = [*sc.keys, *(["window_end"] if sc.by else []), *COUNTS, "conversation_posts"]
    for name in MEASURES:
        ordered.append(name)
        if name in RATES:
            ordered += [f"{name}_num", f"{name}_den", f"{name}_low", f"{name}_high"]
    return ordered
