"""Which signals an input lets us see: from the platform, and from the data itself.

A measure can only be as good as the signal behind it. A platform may not expose
a signal at all (X does not publish the likes an account gives; a mailing list
has no reactions, shares or typed mentions), and an export may simply not carry
it (a sample collected without retweets, a feed that keeps ``is_reply`` but not
the parent). In both cases the measures built on that signal are *unknown*,
never 0: a leader who was not seen sharing was not seen at all.

:func:`observe` decides, per signal of :data:`SIGNALS`, whether the input shows
it, and why not when it does not. The platform facts come from the reader
(``OBSERVABILITY`` of each :mod:`tribe_analysis.io` module); the data rule is
that a signal no record of the input carries is unobservable. Observability is
a property of the whole input, not of a leader or a time window: a leader who
never shares on a platform where others do is measured as not sharing.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

__all__ = ["SIGNALS", "decide", "observe", "signal_counts", "unobservable"]

SIGNALS: dict[str, str] = {
    "reactions": "reactions given (likes, favourites, votes)",
    "shares": "shares (retweets, reposts, boosts)",
    "mentions": "mentions of accounts in posts",
    "reply_parents": "the content a reply answers (its parent is in the data)",
    "reply_answers": "a reply answered by a reply to it (threads that are not flat)",
    "reply_chains": "an answer to a reply's reply (flat comments whose @name replies cannot be resolved)",
}
"""Signal name -> what it is. Measures declare which of these they need."""

_PLATFORM_KEY = {
    "reactions": "reaction",
    "shares": "share",
    "mentions": "mention",
    "reply_parents": "reply",
    "reply_answers": "reply_answer",
    "reply_chains": "reply_chain",
}
"""Signal -> key of a reader's ``OBSERVABILITY`` mapping (absent means exposed).

``reply_chains`` is a platform fact only (no data rule): whether a reply to a reply
can itself be answered by a reply to it. Stack Exchange comments can only by ``@name``,
which the reader resolves with the display names of ``Users.xml``.
"""

_SCHEMA = {"signal": pl.String, "observable": pl.Boolean, "source": pl.String, "reason": pl.String}


def observe(
    events: pl.DataFrame | pl.LazyFrame,
    platform: Mapping[str, bool] | None = None,
    *,
    platform_name: str | None = None,
) -> pl.DataFrame:
    """Decide for each signal whether the input shows it, with the reason when not.

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        Canonical events of the whole input (``target_actor_id`` derived).
    platform : mapping, optional
        The reader's platform facts (keys ``reaction``, ``share``, ``mention``,
        ``reply``; a missing key means the platform exposes it). ``None``: the
        platform exposes everything, and only the data decides.
    platform_name : str, optional
        Named in the reasons (``"the platform (twitter) does not expose ..."``).

    Returns
    -------
    polars.DataFrame
        One row per signal of :data:`SIGNALS`, in that order: ``signal``,
        ``observable``, ``source`` (``"platform"`` or ``"data"`` when
        unobservable, else null) and ``reason`` (null when observable).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> ev = pl.DataFrame({
    ...     "action": ["post", "reply"], "mentions": [[], []],
    ...     "parent_id": [None, "p1"], "target_actor_id": [None, "a"]})
    >>> observe(ev, {"reaction": False}, platform_name="twitter").select("signal", "observable").rows()
    [('reactions', False), ('shares', False), ('mentions', False), ('reply_parents', True), ('reply_answers', True), ('reply_chains', True)]
    >>> print(unobservable(observe(ev, {"reaction": False}, platform_name="twitter"))["reactions"])
    the platform (twitter) does not expose reactions given (likes, favourites, votes)
    """
    return decide(signal_counts(events), platform, platform_name=platform_name)


def signal_counts(events: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """The records that carry each signal: what :func:`decide` reads.

    ``reactions``, ``shares``, ``mentions`` (records with at least one),
    ``replies``, ``reply_parents`` (replies whose parent is in the data) and, where
    the events have ``parent_id`` and ``thread_id``, ``reply_answers`` (replies whose
    parent is in the data and is not the thread's root: a reply to a reply; none in
    flat threads such as Slack's). The counts add up: a distributed engine sums
    those of its partitions.

    Examples
    --------
    >>> signal_counts(pl.DataFrame({"action": ["post", "reply"], "mentions": [["a"], []],
    ...     "target_actor_id": [None, "x"], "parent_id": [None, "p"], "thread_id": ["p", "p"]}))
    {'reactions': 0, 'shares': 0, 'mentions': 1, 'replies': 1, 'reply_parents': 1, 'reply_answers': 0}
    """
    action = pl.col("action")
    lf = events.lazy()
    threaded = {"parent_id", "thread_id"} <= set(lf.collect_schema().names())
    with_parent = (action == "reply") & pl.col("target_actor_id").is_not_null()
    to_reply = with_parent & (pl.col("parent_id") != pl.col("thread_id"))
    counts = (
        lf.select(
            (action == "reaction").sum().alias("reactions"),
            (action == "share").sum().alias("shares"),
            (pl.col("mentions").list.len() > 0).sum().alias("mentions"),
            (action == "reply").sum().alias("replies"),
            with_parent.sum().alias("reply_parents"),
            *([to_reply.sum().alias("reply_answers")] if threaded else []),
        )
        .collect()
        .row(0, named=True)
    )
    return {name: int(value) for name, value in counts.items()}


def decide(
    counts: Mapping[str, int],
    platform: Mapping[str, bool] | None = None,
    *,
    platform_name: str | None = None,
) -> pl.DataFrame:
    """The :func:`observe` table from the counts of the records that carry each signal.

    ``counts`` holds ``reactions``, ``shares``, ``mentions`` (records with at
    least one mention), ``replies`` and ``reply_parents`` (replies whose parent is
    in the data), however they were counted (here, or by a distributed engine).

    Examples
    --------
    >>> counts = {"reactions": 0, "shares": 3, "mentions": 0, "replies": 2, "reply_parents": 0}
    >>> decide(counts).filter(~pl.col("observable")).select("signal", "reason").rows()
    [('reactions', 'no reaction in any record of the input'), ('mentions', 'no mention in any record of the input'), ('reply_parents', 'none of the 2 replies has its parent in the input')]
    """
    facts = dict(platform or {})
    where = f" ({platform_name})" if platform_name else ""
    rows: list[tuple[str, bool, str | None, str | None]] = []
    for signal, meaning in SIGNALS.items():
        if not facts.get(_PLATFORM_KEY[signal], True):
            rows.append(
                (signal, False, "platform", f"the platform{where} does not expose {meaning}")
            )
        elif counts.get(signal) == 0:
            rows.append((signal, False, "data", _absent_reason(signal, counts["replies"])))
        else:
            rows.append((signal, True, None, None))
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row")


def _absent_reason(signal: str, replies: int) -> str:
    if signal == "reply_parents":
        if replies == 0:
            return "no replies in the input"
        return f"none of the {replies:,} replies has its parent in the input"
    if signal == "reply_answers":
        return "no reply in the input answers another reply (every reply is to a root post)"
    noun = {"reactions": "reaction", "shares": "share", "mentions": "mention"}[signal]
    return f"no {noun} in any record of the input"


def unobservable(table: pl.DataFrame) -> dict[str, str]:
    """Signal -> reason, for the unobservable signals of an :func:`observe` table.

    Examples
    --------
    >>> shares_only = pl.DataFrame({
    ...     "action": ["post", "share"], "mentions": [[], []],
    ...     "parent_id": [None, "p1"], "target_actor_id": [None, "a"]})
    >>> unobservable(observe(shares_only))["mentions"]
    'no mention in any record of the input'
    >>> unobservable(observe(shares_only, {"share": False}))["shares"]
    'the platform does not expose shares (retweets, reposts, boosts)'
    """
    hidden = table.filter(~pl.col("observable"))
    return dict(zip(hidden["signal"].to_list(), hidden["reason"].to_list(), strict=True))
