"""Per-leader engagement measures, pure functions over polars frames.

Every measure follows ``docs/methods.md`` (definitions, null rules, literature).
A rate ``x`` comes with ``x_num`` and ``x_den`` and is null when ``x_den`` is
under ``min_denominator`` (default 10). A measure whose signal the platform does
not expose (see :data:`ALL_OBSERVABLE`) is null, never 0. Self-interactions
(self-replies, sharing or mentioning oneself) never count as engagement.

The work is a handful of joins and group-bys over a lazy frame; no Python loop
runs per event or per actor. Graph measures that are super-linear run on the
leaders' ego networks only (:func:`tribe_analysis.graph.ego_measures`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import polars as pl

from tribe_analysis import events as ev
from tribe_analysis import graph

__all__ = [
    "ALL_OBSERVABLE",
    "MEASURES",
    "PARTICIPATION_PARTS",
    "RATES",
    "leader_measures",
    "select_leaders",
    "tribe_pairs",
]

ALL_OBSERVABLE: Mapping[str, bool] = {"post": True, "reply": True, "share": True, "reaction": True}
"""Which outgoing actions a platform exposes; readers return their own (e.g. no reactions given on X)."""

RATES: tuple[str, ...] = (
    "see_coverage",
    "see_breadth",
    "comment_share",
    "reply_concentration",
    "reply_rate",
    "dialogic_loop_share",
    "promotion_share",
    "promoted_breadth",
    "broadcast_share",
    "unanswered_share",
    "alter_reciprocity",
)
"""Measures stored with ``_num`` and ``_den`` columns and the minimum-denominator rule."""

PARTICIPATION_PARTS: tuple[str, ...] = (
    "see_coverage",
    "comment_share",
    "reply_rate",
    "promotion_share",
    "alter_reciprocity",
    "broadcast_share",  # enters as 1 - broadcast_share
)
"""Rates averaged (where available) into ``participation_index``."""

MEASURES: tuple[str, ...] = (
    "participation_index",
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

_AUTHORED = ("post", "reply", "share")


def select_leaders(
    events: pl.DataFrame | pl.LazyFrame,
    *,
    top: int = 20,
    min_activity: int = 10,
    by: str = "audience",
) -> list[str]:
    """The ``top`` accounts by distinct audience, among those with enough activity.

    The audience of an account is the number of distinct *other* accounts that
    replied to, shared or reacted to its content. Accounts with fewer than
    ``min_activity`` authored actions (post, reply, share) are not candidates.
    Ties are broken by authored actions, then by id, so the choice is stable.

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events (``target_actor_id`` derived).
    top : int
        How many leaders to return.
    min_activity : int
        Minimum authored actions of a candidate.
    by : {"audience", "activity"}
        Rank by distinct audience (default) or by authored actions, for exports
        that hold no interactions with known authors (audience is then 0 for all).

    Returns
    -------
    list of str
        Leader ids, largest audience first.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=6, days=20, seed=3)
    >>> len(select_leaders(tribe.events, top=4))
    4
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    lf = events.lazy()
    audience = (
        lf.filter(
            pl.col("action").is_in(["reply", "share", "reaction"])
            & pl.col("target_actor_id").is_not_null()
            & (pl.col("target_actor_id") != pl.col("actor_id"))
        )
        .group_by(pl.col("target_actor_id").alias("actor_id"))
        .agg(pl.col("actor_id").n_unique().alias("audience"))
    )
    authored = (
        lf.filter(pl.col("action").is_in(_AUTHORED))
        .group_by("actor_id")
        .agg(pl.len().alias("authored"))
    )
    if by not in ("audience", "activity"):
        raise ValueError(f"by must be 'audience' or 'activity', got {by!r}")
    if by == "activity":
        audience = authored.select("actor_id", pl.lit(0, pl.UInt32).alias("audience"))
    ranked = (
        audience.join(authored, on="actor_id", how="inner")
        .filter(pl.col("authored") >= min_activity)
        .sort(["audience", "authored", "actor_id"], descending=[True, True, False])
        .head(top)
        .collect()
    )
    return ranked.get_column("actor_id").to_list()


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


def _rate(
    name: str, num: pl.Expr, den: pl.Expr, min_den: int, available: bool = True
) -> list[pl.Expr]:
    """``name``, ``name_num`` and ``name_den`` with the minimum-denominator and observability rules."""
    num = num.fill_null(0).cast(pl.Int64)
    den = den.fill_null(0).cast(pl.Int64)
    if not available:
        return [
            pl.lit(None, pl.Float64).alias(name),
            pl.lit(None, pl.Int64).alias(f"{name}_num"),
            pl.lit(None, pl.Int64).alias(f"{name}_den"),
        ]
    value = pl.when(den >= min_den).then(num / den).otherwise(None)
    return [value.alias(name), num.alias(f"{name}_num"), den.alias(f"{name}_den")]


def leader_measures(
    events: pl.DataFrame | pl.LazyFrame,
    leaders: Iterable[str],
    *,
    every: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    min_denominator: int = 10,
    observability: Mapping[str, bool] | None = None,
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
        Rates with a smaller denominator are null.
    observability : mapping, optional
        Outgoing actions the platform exposes (:data:`ALL_OBSERVABLE` by
        default). Without ``reaction`` the seeing measures are null.
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
        ``interactions_in``, then :data:`MEASURES` with the ``_num``/``_den``
        of each rate. Sorted by leader (and window). Definitions in
        ``docs/methods.md``.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=4, days=30, seed=2)
    >>> m = leader_measures(tribe.events, tribe.leaders)
    >>> m.height, m.get_column("participation_index").is_between(0, 1).all()
    (4, True)
    """
    leaders = sorted(set(leaders))
    if edges is not None and (every or since or until):
        raise ValueError("edges= is the whole period's edge list: not with every, since or until")
    seen = dict(ALL_OBSERVABLE if observability is None else observability)
    reactions_seen = seen.get("reaction", False)
    lf = events.lazy()
    if since is not None:
        lf = lf.filter(pl.col("timestamp") >= _utc(since))
    if until is not None:
        lf = lf.filter(pl.col("timestamp") < _utc(until))
    by: list[str] = []
    if every is not None:
        lf = lf.with_columns(pl.col("timestamp").dt.truncate(every).alias("window_start"))
        by = ["window_start"]
    keys = ["leader_id", *by]
    lead = pl.LazyFrame({"leader_id": leaders}, schema={"leader_id": pl.String})
    lf = lf.select(
        "event_id",
        "timestamp",
        "actor_id",
        "action",
        "parent_id",
        "thread_id",
        "target_actor_id",
        "mentions",
        *by,
    )
    own = lf.join(lead, left_on="actor_id", right_on="leader_id", how="semi").with_columns(
        pl.col("actor_id").alias("leader_id")
    )
    is_self_target = pl.col("target_actor_id").is_not_null() & (
        pl.col("target_actor_id") == pl.col("leader_id")
    )
    others_mentioned = pl.col("mentions").list.set_difference(pl.concat_list(pl.col("leader_id")))

    # ---- L's own activity: counts, commenting, promoting, broadcasting
    root_actor = lf.filter(pl.col("action") == "post").select(
        pl.col("event_id").alias("thread_id"), pl.col("actor_id").alias("root_actor")
    )
    own_rows = own.join(root_actor, on="thread_id", how="left")
    reply = pl.col("action") == "reply"
    post = pl.col("action") == "post"
    share = pl.col("action") == "share"
    to_other = pl.col("target_actor_id").is_not_null() & ~is_self_target
    activity = own_rows.group_by(keys).agg(
        post.sum().alias("posts"),
        reply.sum().alias("replies"),
        share.sum().alias("shares"),
        (pl.col("action") == "reaction").sum().alias("reactions"),
        pl.col("action").is_in(_AUTHORED).sum().alias("authored"),
        (
            reply
            & (pl.col("root_actor").is_null() | (pl.col("root_actor") != pl.col("leader_id")))
            & ~is_self_target
        )
        .sum()
        .alias("comment_n"),
        pl.col("target_actor_id").filter(reply & to_other).n_unique().alias("comment_targets"),
        (reply & to_other).sum().alias("replies_to_others"),
        (share & ~is_self_target).sum().alias("shares_of_others"),
        (post & (others_mentioned.list.len() > 0)).sum().alias("posts_mentioning"),
        (post & (others_mentioned.list.len() == 0)).sum().alias("posts_silent"),
        (post | share).sum().alias("promote_den"),
    )
    top5 = (
        own.filter(reply & to_other)
        .group_by([*keys, "target_actor_id"])
        .len()
        .group_by(keys)
        .agg(pl.col("len").top_k(5).sum().alias("top5_replies"))
    )
    promoted = (
        pl.concat(
            [
                own.filter(share & to_other).select(
                    *keys, pl.col("target_actor_id").alias("alter_id")
                ),
                own.filter(post)
                .select(*keys, others_mentioned.alias("alter_id"))
                .explode("alter_id"),
            ]
        )
        .drop_nulls("alter_id")
        .group_by(keys)
        .agg(pl.col("alter_id").n_unique().alias("promoted_n"))
    )

    # ---- tribe, reciprocity
    pairs = tribe_pairs(lf, leaders, by=by)
    tribe = pairs.group_by(keys).agg(
        pl.len().alias("tribe_size"),
        ((pl.col("out") > 0) & (pl.col("in") > 0)).sum().alias("reciprocal_alters"),
        pl.col("out").sum().alias("interactions_out"),
        pl.col("in").sum().alias("interactions_in"),
    )

    # ---- seeing: tribe root posts L engaged (reply/reaction/share, at any time in the period)
    engaged = (
        own.filter(
            pl.col("action").is_in(["reply", "share", "reaction"])
            & pl.col("parent_id").is_not_null()
        )
        .select("leader_id", pl.col("parent_id").alias("event_id"))
        .unique()
        .with_columns(pl.lit(True).alias("engaged"))
    )
    tribe_posts = (
        pairs.select(*keys, "alter_id")
        .join(
            lf.filter(pl.col("action") == "post").select(
                pl.col("actor_id").alias("alter_id"), "event_id", *by
            ),
            on=["alter_id", *by],
        )
        .join(engaged, on=["leader_id", "event_id"], how="left")
        .group_by(keys)
        .agg(pl.len().alias("see_den"), pl.col("engaged").sum().alias("see_num"))
    )
    seen_alters = (
        own.filter(pl.col("action").is_in(["reply", "share", "reaction"]) & to_other)
        .group_by(keys)
        .agg(pl.col("target_actor_id").n_unique().alias("see_breadth_num"))
    )

    # ---- responsiveness: first-level comments by others on L's root posts
    own_posts = own.filter(post).select("leader_id", pl.col("event_id").alias("parent_id"))
    comments = (
        lf.filter(reply)
        .join(own_posts, on="parent_id")
        .filter(pl.col("actor_id") != pl.col("leader_id"))
    )
    answers = (
        own.filter(reply)
        .group_by("leader_id", "parent_id")
        .agg(pl.col("timestamp").min().alias("answered_at"))
        .rename({"parent_id": "event_id"})
    )
    answered = comments.join(answers, on=["leader_id", "event_id"], how="left").with_columns(
        ((pl.col("answered_at") - pl.col("timestamp")).dt.total_microseconds() / 3.6e9).alias(
            "latency_h"
        )
    )
    responsiveness = answered.group_by(keys).agg(
        pl.len().alias("reply_rate_den"),
        pl.col("answered_at").is_not_null().sum().alias("reply_rate_num"),
        pl.col("latency_h").drop_nulls().median().alias("reply_latency_h"),
    )

    # ---- conversations on L's root posts (thread-level aggregates, then per leader)
    depth = _depths(events)
    thread_replies = (
        lf.filter(reply)
        .join(depth, on="event_id", how="left")
        .join(
            own.filter(post).select("leader_id", pl.col("event_id").alias("thread_id")),
            on="thread_id",
        )
        .group_by("leader_id", "thread_id")
        .agg(
            pl.col("actor_id")
            .filter(pl.col("actor_id") != pl.col("leader_id"))
            .n_unique()
            .alias("participants"),
            (pl.col("actor_id") != pl.col("leader_id")).sum().alias("others_replies"),
            (
                (pl.col("actor_id") == pl.col("leader_id"))
                & (pl.col("target_actor_id") != pl.col("leader_id"))
            )
            .any()
            .alias("leader_replied"),
            pl.col("depth").max().alias("depth"),
        )
    )
    threads = (
        own.filter(post)
        .select(*keys, pl.col("event_id").alias("thread_id"))
        .join(thread_replies, on=["leader_id", "thread_id"], how="left")
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
        )
    )

    # ---- assemble
    frames = [activity, top5, promoted, tribe, tribe_posts, seen_alters, responsiveness, threads]
    if by:
        base = pl.concat([f.select(keys) for f in frames]).unique()
    else:
        base = lead
    out = base
    for frame in frames:
        out = out.join(frame, on=keys, how="left", coalesce=True)
    counts = [
        "posts",
        "replies",
        "shares",
        "reactions",
        "authored",
        "tribe_size",
        "interactions_out",
        "interactions_in",
    ]
    m = min_denominator
    c = pl.col
    out = out.with_columns(c(counts).fill_null(0).cast(pl.Int64)).with_columns(
        *_rate("see_coverage", c("see_num"), c("see_den"), m, reactions_seen),
        *_rate("see_breadth", c("see_breadth_num"), c("tribe_size"), m, reactions_seen),
        *_rate("comment_share", c("comment_n"), c("authored"), m),
        *_rate("reply_concentration", c("top5_replies"), c("replies_to_others"), m),
        *_rate("reply_rate", c("reply_rate_num"), c("reply_rate_den"), m),
        *_rate("dialogic_loop_share", c("loops"), c("drew_comment"), m),
        *_rate(
            "promotion_share", c("shares_of_others") + c("posts_mentioning"), c("promote_den"), m
        ),
        *_rate("promoted_breadth", c("promoted_n"), c("tribe_size"), m),
        *_rate("broadcast_share", c("posts_silent"), c("authored"), m),
        *_rate("unanswered_share", c("drew_comment") - c("loops"), c("drew_comment"), m),
        *_rate("alter_reciprocity", c("reciprocal_alters"), c("tribe_size"), m),
        c("comment_targets").fill_null(0).cast(pl.Int64),
        pl.when(c("reply_rate_den") >= m).then(c("reply_latency_h")).alias("reply_latency_h"),
        *[
            pl.when(c("conversation_posts") >= m).then(c(name).cast(pl.Float64)).alias(name)
            for name in ("participants", "depth", "focus_ratio", "conversation_yield")
        ],
        c("conversation_posts").fill_null(0).cast(pl.Int64),
        ((c("interactions_out").fill_null(0) + 1) / (c("interactions_in").fill_null(0) + 1))
        .log()
        .alias("give_receive_log_ratio"),
    )
    parts = [1 - c(name) if name == "broadcast_share" else c(name) for name in PARTICIPATION_PARTS]
    out = out.with_columns(pl.mean_horizontal(parts).alias("participation_index"))
    result = out.collect()
    if ego:
        ego_table = (
            graph.ego_measures(edges, leaders) if edges is not None else _ego(lf, leaders, by)
        )
        result = result.join(ego_table, on=keys, how="left")
    else:
        result = result.with_columns(
            [pl.lit(None, pl.Float64).alias(name) for name in MEASURES if name.startswith("ego_")]
        )
    result = result.with_columns(pl.col("ego_size").fill_null(0).cast(pl.Int64))
    ordered = [*keys]
    if by:
        result = result.with_columns(pl.col("window_start").dt.offset_by(every).alias("window_end"))
        ordered.append("window_end")
    ordered += [*counts, "conversation_posts"]
    for name in MEASURES:
        ordered.append(name)
        if name in RATES:
            ordered += [f"{name}_num", f"{name}_den"]
    return result.select(ordered).sort(keys)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        text = f"{text}T00:00:00Z" if len(text) == 10 else text
        parsed = (
            pl.Series([text]).str.to_datetime(time_zone="UTC", time_unit="us", strict=False).item()
        )
        if parsed is None:
            raise ValueError(f"cannot parse date {value!r} (expected ISO-8601, e.g. 2024-05-01)")
        return parsed
    if value.tzinfo is None:
        raise ValueError(f"date {value!r} has no time zone (give UTC or an offset)")
    return value


def _depths(events: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    frame = (
        events.select("event_id", "parent_id").collect()
        if isinstance(events, pl.LazyFrame)
        else events
    )
    return frame.select("event_id").with_columns(ev.reply_depths(frame)).lazy()


def _ego(lf: pl.LazyFrame, leaders: Sequence[str], by: Sequence[str]) -> pl.DataFrame:
    """Ego-network measures per leader (and window): built from the edges near each leader only."""
    if not by:
        return graph.ego_measures(graph.edge_list(lf), leaders)
    windows = lf.select(by).unique().sort(by).collect()
    parts = []
    for (start,) in windows.iter_rows():
        edges = graph.edge_list(lf.filter(pl.col("window_start") == start))
        parts.append(
            graph.ego_measures(edges, leaders).with_columns(pl.lit(start).alias("window_start"))
        )
    return pl.concat(parts)
