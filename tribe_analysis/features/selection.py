"""Choosing the leaders: the accounts with the largest distinct audience that can be labelled."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from tribe_analysis.features._scope import AUTHORED

PSEUDO_ACCOUNTS: dict[str, str] = {
    "[deleted]": "Reddit: every deleted account (many people)",
    "[removed]": "Reddit: removed by moderators",
    "AutoModerator": "Reddit: moderation bot",
    "-1": "Stack Exchange: the Community user (automation)",
    "USLACKBOT": "Slack: Slackbot",
}
"""Account ids that are not one person, and why; never leaders (``docs/formats.md``)."""

PSEUDO_PATTERNS: dict[str, str] = {
    r"^deleted:": "Stack Exchange: a deleted account, known by display name only",
    r"^(mailer-daemon|postmaster|majordomo|listserv)\b": "mailing list: mail system",
    # name-request@host, Mailman's name-bounces+user=host@host, name-request.domain (anonymised)
    r"-(request|owner|bounces)[.@+]": "mailing list: list robot address",
}
"""Regular expressions on account ids of pseudo-accounts, and why."""


def is_pseudo_account(column: str | pl.Expr = "actor_id") -> pl.Expr:
    """True where an account id is a pseudo-account (:data:`PSEUDO_ACCOUNTS`, :data:`PSEUDO_PATTERNS`).

    Examples
    --------
    >>> ids = pl.DataFrame({"a": ["[deleted]", "deleted:bob", "list-request.x.org", "ann", "-1"]})
    >>> ids.select(is_pseudo_account("a")).to_series().to_list()
    [True, True, True, False, True]
    """
    col = pl.col(column) if isinstance(column, str) else column
    out = col.is_in(list(PSEUDO_ACCOUNTS))
    for pattern in PSEUDO_PATTERNS:
        out = out | col.str.to_lowercase().str.contains(pattern)
    return out.fill_null(False)


def select_leaders(
    events: pl.DataFrame | pl.LazyFrame,
    *,
    top: int = 20,
    min_activity: int = 1,
    by: str = "audience",
    observability: Mapping[str, bool] | pl.DataFrame | None = None,
    evidence: bool = True,
    min_denominator: int = 5,
    edges: pl.DataFrame | None = None,
) -> list[str]:
    """The ``top`` accounts by distinct audience, among those that can be labelled.

    The audience of an account is the number of distinct *other* accounts that
    replied to, shared or reacted to its content. Candidates are the accounts
    that are not pseudo-accounts (:func:`is_pseudo_account`), have at least
    ``min_activity`` authored actions (post, reply, share) and — with
    ``evidence`` — enough evidence to be labelled: at least
    :data:`tribe_analysis.participation.MIN_PARTS` parts of the participation
    index with their minimum denominator among commenting (authored actions),
    starting conversations (own posts that drew two or more others), answering
    (first-level comments by others on own posts: a lower bound of the replies
    addressed to the account) and promoting (own posts, where mentions are
    observable), each counted only where its signal is observable, and at least
    :data:`tribe_analysis.participation.MIN_AUTHORED` authored actions. (Seeing
    is left out of this count: its denominator needs every account's tribe, and
    the rule only has to be cheap and never admit an account that cannot be
    labelled.) So a news outlet with 9 posts and hundreds of replies received is
    a candidate, and an account that only replies is not (it has no posts for
    anyone to answer or discuss). Ties are broken by authored actions, then by
    id, so the choice is stable.

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
    observability : mapping or polars.DataFrame, optional
        As for :func:`tribe_analysis.features.leader_measures`.
    evidence : bool
        Keep only accounts with enough evidence to be labelled.
    min_denominator : int
        As for :func:`tribe_analysis.features.leader_measures`.
    edges : polars.DataFrame, optional
        :func:`tribe_analysis.graph.edge_list` of the same ``events``, to count
        audiences from (faster; the same result).

    Returns
    -------
    list of str
        Leader ids, largest audience first (fewer than ``top`` when fewer qualify).

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> tribe = simulate_tribe(n_leaders=6, days=20, seed=3)
    >>> len(select_leaders(tribe.events, top=4))
    4
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    if by not in ("audience", "activity"):
        raise ValueError(f"by must be 'audience' or 'activity', got {by!r}")
    lf = events.lazy()
    own = account_counts(lf)
    ranked = ranked_candidates(own, by, min_activity, edges, lf)
    if not evidence:
        return ranked.head(top).to_list()
    from tribe_analysis.features import signals_of

    seen = signals_of(events, observability)
    return with_evidence(ranked, top, evidence_of(lf, own, seen, min_denominator))


def account_counts(lf: pl.LazyFrame) -> pl.DataFrame:
    """Per account (``actor_id``): ``authored`` actions and root ``posts``."""
    return (
        lf.group_by("actor_id")
        .agg(
            pl.col("action").is_in(AUTHORED).sum().alias("authored"),
            (pl.col("action") == "post").sum().alias("posts"),
        )
        .collect()
    )


def ranked_candidates(
    own: pl.DataFrame,
    by: str,
    min_activity: int,
    edges: pl.DataFrame | None,
    lf: pl.LazyFrame | None = None,
) -> pl.Series:
    """Candidate ids, best first (see :func:`select_leaders`); ``own`` is :func:`account_counts`.

    The audience is counted from ``edges`` when given, else from the events ``lf``.
    """
    return _ranked(lf, own.lazy(), by, min_activity, edges).collect().get_column("actor_id")


def with_evidence(ranked: pl.Series, top: int, able: Callable[[pl.Series], set[str]]) -> list[str]:
    """The first ``top`` of ``ranked`` that ``able`` finds have enough evidence to be labelled.

    Candidates are checked best-ranked first, in growing batches; ``able`` gives
    the accounts of a batch with enough evidence (:func:`evidence_of` on one
    machine; a distributed engine computes the same on its workers).
    """
    chosen: list[str] = []
    # never a batch longer than the candidates: polars takes no length beyond 64 bits
    start, size = 0, min(max(5 * top, 100), max(ranked.len(), 1))
    while len(chosen) < top and start < ranked.len():  # best-ranked candidates first
        batch = ranked.slice(start, size)
        found = able(batch)
        chosen += [actor for actor in batch.to_list() if actor in found]
        start, size = start + size, size * 2
    return chosen[:top]


def evidence_of(
    lf: pl.LazyFrame, own: pl.DataFrame, seen: Mapping[str, bool], min_denominator: int
) -> Callable[[pl.Series], set[str]]:
    """For :func:`with_evidence`: the accounts of a batch with enough evidence in events ``lf``.

    ``lf`` must hold at least the batch's posts and the replies to and under them;
    ``own`` is :func:`account_counts` of all events.
    """

    def able(batch: pl.Series) -> set[str]:
        found = _evidence(lf, own.lazy(), seen, min_denominator, batch).collect()
        return set(found.get_column("actor_id").to_list())

    return able


def _evidence(
    lf: pl.LazyFrame, own: pl.LazyFrame, seen: Mapping[str, bool], m: int, among: pl.Series
) -> pl.LazyFrame:
    """The accounts of ``among`` with enough evidence to be labelled (see :func:`select_leaders`).

    ``own`` holds each account's ``authored`` and ``posts`` counts. Only the
    posts of ``among`` are joined with the replies, so a batch of candidates costs
    one pass over the replies whatever the number of accounts.
    """
    from tribe_analysis.participation import MIN_AUTHORED, MIN_PARTS

    post, reply = pl.col("action") == "post", pl.col("action") == "reply"
    posts = lf.filter(post, pl.col("actor_id").is_in(among.implode())).select(
        pl.col("event_id").alias("root"), pl.col("actor_id").alias("author")
    )
    replies = lf.filter(reply).select("actor_id", "parent_id", "thread_id")
    comments = (
        replies.join(posts, left_on="parent_id", right_on="root")
        .filter(pl.col("actor_id") != pl.col("author"))
        .group_by(pl.col("author").alias("actor_id"))
        .agg(pl.len().alias("comments"))
    )
    discussions = (
        replies.join(posts, left_on="thread_id", right_on="root")
        .filter(pl.col("actor_id") != pl.col("author"))
        .group_by("author", "thread_id")
        .agg(pl.col("actor_id").n_unique().alias("others"))
        .filter(pl.col("others") >= 2)
        .group_by(pl.col("author").alias("actor_id"))
        .agg(pl.len().alias("discussions"))
    )
    threads = seen.get("reply_parents", True)
    answers = threads and seen.get("reply_answers", True)
    promotes = seen.get("mentions", True)
    parts = (
        (pl.col("authored") >= m).cast(pl.Int32) * int(threads)
        + (pl.col("discussions").fill_null(0) >= m).cast(pl.Int32) * int(answers)
        + (pl.col("comments").fill_null(0) >= m).cast(pl.Int32) * int(answers)
        + (pl.col("posts") >= m).cast(pl.Int32) * int(promotes)
    )
    return (
        own.filter(pl.col("actor_id").is_in(among.implode()))
        .join(comments, on="actor_id", how="left")
        .join(discussions, on="actor_id", how="left")
        .filter((parts >= MIN_PARTS) & (pl.col("authored") >= MIN_AUTHORED))
        .select("actor_id")
    )


def _ranked(
    lf: pl.LazyFrame | None,
    own: pl.LazyFrame,
    by: str,
    min_activity: int,
    edges: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Non-pseudo accounts with enough activity, by audience (or activity), authored, id.

    With ``edges`` (the :func:`tribe_analysis.graph.edge_list` of the same events)
    the audience is counted over its pairs: far fewer rows than the events.
    """
    if edges is not None:
        acted = (pl.col("reply") + pl.col("reaction") + pl.col("share")) > 0
        audience = (
            edges.lazy()
            .filter(acted)
            .group_by(pl.col("target").alias("actor_id"))
            .agg(pl.len().cast(pl.UInt32).alias("audience"))
        )
    elif lf is not None:
        audience = (
            lf.filter(
                pl.col("action").is_in(["reply", "share", "reaction"])
                & pl.col("target_actor_id").is_not_null()
                & (pl.col("target_actor_id") != pl.col("actor_id"))
            )
            .group_by(pl.col("target_actor_id").alias("actor_id"))
            .agg(pl.col("actor_id").n_unique().alias("audience"))
        )
    else:
        raise ValueError("audiences are counted from the events (lf) or their edge list (edges)")
    authored = own.select("actor_id", "authored").filter(pl.col("authored") > 0)
    if by == "activity":
        audience = authored.select("actor_id", pl.lit(0, pl.UInt32).alias("audience"))
    return (
        audience.join(authored, on="actor_id", how="inner")
        .filter((pl.col("authored") >= min_activity) & ~is_pseudo_account())
        .sort(["audience", "authored", "actor_id"], descending=[True, True, False])
    )
