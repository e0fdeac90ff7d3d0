"""Finishing the joined family frames: counts, rates with the evidence and observability rules."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

COUNTS: tuple[str, ...] = (
    "posts",
    "replies",
    "shares",
    "reactions",
    "authored",
    "tribe_size",
    "interactions_out",
    "interactions_in",
)
"""Count columns of :func:`tribe_analysis.features.leader_measures`, 0 when a leader has none
(``shares`` and ``reactions``: null when the input does not show the signal, see :data:`COUNTED`)."""

COUNTED = {"shares": "shares", "reactions": "reactions"}
"""Count -> the signal it counts: unknown (null), never 0, where the signal is unobservable."""

_MEDIANS = ("participants", "depth", "focus_ratio", "conversation_yield")

NEEDS: dict[str, tuple[str, ...]] = {
    "see_coverage": ("reactions",),
    "see_breadth": ("reactions",),
    "comment_share": ("reply_parents",),
    "comment_targets": ("reply_parents",),
    "reply_concentration": ("reply_parents",),
    "reply_rate": ("reply_parents", "reply_answers"),
    "answer_rate": ("reply_parents", "reply_answers"),
    "reply_latency_h": ("reply_parents", "reply_answers"),
    "dialogic_loop_share": ("reply_parents", "reply_answers"),
    "unanswered_share": ("reply_parents", "reply_answers"),
    "conversation_share": ("reply_parents", "reply_answers"),
    **{name: ("reply_parents",) for name in _MEDIANS},
    "alter_reciprocity": ("reply_parents",),
    "broadcast_share": ("mentions",),
    "mention_share": ("mentions",),
}
"""Measure -> signals (:data:`tribe_analysis.observability.SIGNALS`) it needs, all of them.

Answering and taking part in one's own threads need ``reply_answers``: in flat
threads (every reply is to the root post, as in Slack) a leader's answer is a sibling
of the reply it answers, which the data cannot tie to it.

``promotion_share`` and ``promoted_breadth`` need shares *or* mentions and use
the channels that are observable (see :func:`finish`).
"""

PROMOTION = ("promotion_share", "promoted_breadth")


def unobserved_measures(seen: Mapping[str, bool]) -> dict[str, list[str]]:
    """Measure -> the unobservable signals that make it null (only measures made null).

    Examples
    --------
    >>> out = unobserved_measures({"reactions": False, "shares": False, "mentions": False,
    ...     "reply_parents": True})
    >>> out["see_coverage"], out["promotion_share"], "reply_rate" in out
    (['reactions'], ['shares', 'mentions'], False)
    """
    out = {
        name: [s for s in signals if not seen.get(s, True)]
        for name, signals in NEEDS.items()
        if not all(seen.get(s, True) for s in signals)
    }
    if not seen.get("shares", True) and not seen.get("mentions", True):
        out |= {name: ["shares", "mentions"] for name in PROMOTION}
    return out


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
    # never 0/0 (NaN), whatever the minimum: a rate without a case is unknown
    value = pl.when((den >= min_den) & (den > 0)).then(num / den).otherwise(None)
    return [value.alias(name), num.alias(f"{name}_num"), den.alias(f"{name}_den")]


def _promotion(seen: Mapping[str, bool]) -> tuple[pl.Expr, pl.Expr]:
    """Numerator and denominator of ``promotion_share`` over the observable channels.

    The denominator is the leader's own output that could promote someone:
    root posts and shares. The numerator counts what the observable channels
    show: shares of others' content (when shares are observable) and posts that
    mention another account (when mentions are). A mention is counted once.
    """
    c = pl.col
    zero = pl.lit(0, pl.Int64)
    shares = seen.get("shares", True)
    mentions = seen.get("mentions", True)
    num = (c("shares_of_others") if shares else zero) + (
        c("posts_mentioning") if mentions else zero
    )
    den = c("shares") + c("posts")
    return num.fill_null(0), den.fill_null(0)


def _answering(seen: Mapping[str, bool]) -> tuple[pl.Expr, pl.Expr]:
    """Numerator and denominator of ``answer_rate``.

    Every reply of another account addressed to the leader; where replies to
    replies cannot be answered in place (``reply_chains`` unobservable: Stack
    Exchange comments whose ``@name`` replies cannot be resolved), the replies to the leader's root posts only, the
    opportunities a reply can be seen answering (those of ``reply_rate``).
    """
    if seen.get("reply_chains", True):
        return pl.col("answer_rate_num"), pl.col("answer_rate_den")
    return pl.col("reply_rate_num"), pl.col("reply_rate_den")


def finish(out: pl.LazyFrame, m: int, seen: Mapping[str, bool]) -> pl.LazyFrame:
    """The measures from the families' raw columns: ``m`` is the minimum denominator.

    ``seen`` maps each signal to whether the input shows it; a measure that
    needs an unobservable signal (:data:`NEEDS`) is null, never 0.
    """
    c = pl.col
    hidden = unobserved_measures(seen)

    def rate(name: str, num: pl.Expr, den: pl.Expr) -> list[pl.Expr]:
        return _rate(name, num, den, m, name not in hidden)

    def known(name: str, expr: pl.Expr) -> pl.Expr:
        return (pl.lit(None, pl.Float64) if name in hidden else expr).alias(name)

    promo_num, promo_den = _promotion(seen)
    return (
        out.with_columns(c(list(COUNTS)).fill_null(0).cast(pl.Int64))
        .with_columns(
            *rate("see_coverage", c("see_num"), c("see_den")),
            *rate("see_breadth", c("see_breadth_num"), c("see_breadth_den")),
            *rate("comment_share", c("comment_n"), c("authored")),
            *rate("reply_concentration", c("top5_replies"), c("replies_to_others")),
            *rate("reply_rate", c("reply_rate_num"), c("reply_rate_den")),
            *rate("answer_rate", *_answering(seen)),
            *rate("conversation_share", c("started"), c("discussions")),
            *rate("dialogic_loop_share", c("loops"), c("drew_comment")),
            *rate("promotion_share", promo_num, promo_den),
            *rate("mention_share", c("posts_mentioning"), c("posts")),
            *rate("promoted_breadth", c("promoted_n"), c("tribe_size")),
            *rate("broadcast_share", c("posts_silent"), c("authored")),
            *rate("unanswered_share", c("drew_comment") - c("loops"), c("drew_comment")),
            *rate("alter_reciprocity", c("reciprocal_alters"), c("tribe_size")),
            known("comment_targets", c("comment_targets").fill_null(0).cast(pl.Int64)).cast(
                pl.Int64
            ),
            known(
                "reply_latency_h",
                pl.when(c("reply_rate_den") >= m).then(c("reply_latency_h")),
            ),
            *[
                known(name, pl.when(c("conversation_posts") >= m).then(c(name).cast(pl.Float64)))
                for name in _MEDIANS
            ],
            c("conversation_posts").fill_null(0).cast(pl.Int64),
            ((c("interactions_out").fill_null(0) + 1) / (c("interactions_in").fill_null(0) + 1))
            .log()
            .alias("give_receive_log_ratio"),
        )
        .with_columns(  # last: the rates above count the leader's own shares where they are seen
            pl.lit(None, pl.Int64).alias(name)
            for name, signal in COUNTED.items()
            if not seen.get(signal, True)
        )
    )
