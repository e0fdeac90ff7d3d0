"""The participation index and the evidence behind it: one definition for every stage.

The index answers one question per way of participating that the mission names,
each as a rate about the leader's own opportunities (``docs/methods.md``,
*Participation index*):

========================  ======================  =============================================
way                       part                    rate
========================  ======================  =============================================
seeing                    ``see_breadth``         members who come to L whose content L reacted to, replied to or shared
commenting                ``comment_share``       L's authored actions that are replies in others' threads
starting conversations    ``conversation_share``  L's root posts that drew a discussion (two or more others) in which L took part
answering                 ``answer_rate``         replies of others addressed to L, anywhere, that L answered
promoting others          ``mention_share``       L's root posts that mention another account
========================  ======================  =============================================

A part counts only when its signal is observable for the input and its
denominator reaches the minimum (default 5). Each rate gets a Jeffreys interval
(Beta(x + 1/2, n - x + 1/2) posterior; Brown, Cai & DasGupta 2001), and the index
is the mean of the observed parts, with a standard error from the parts'
posterior variances and an interval from it. Nothing here looks at other leaders:
a leader's index and interval are its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import special

__all__ = [
    "LEVEL",
    "MIN_AUTHORED",
    "MIN_PARTS",
    "PARTS",
    "index_columns",
    "jeffreys_interval",
    "part_masks",
    "participation_index",
    "posterior_variance",
    "rate_intervals",
]

PARTS: dict[str, str] = {
    "see_breadth": "seeing",
    "comment_share": "commenting",
    "conversation_share": "starting conversations",
    "answer_rate": "answering",
    "mention_share": "promoting others",
}
"""Part (a rate column) -> the way of participating it measures, in index order."""

LEVEL = 0.9
"""Coverage of every interval (two-sided)."""

MIN_PARTS = 3
"""Fewer observed parts than this leave the index null (too little evidence).

Three of the five: with two, one way of participating makes half the index, and the
two parts most often left (commenting and answering) both rest on the same replies,
which a sample drawn as reply chains inflates by construction (``docs/validation.md``).
"""

MIN_AUTHORED = 5
"""A leader with fewer authored actions (posts, replies, shares) is not labelled: too
little of its own behaviour to judge, however much others did around it."""


def jeffreys_interval(
    num: np.ndarray | Sequence[float], den: np.ndarray | Sequence[float], level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed Jeffreys interval of a binomial rate ``num / den``.

    The bounds are the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of
    Beta(num + 1/2, den - num + 1/2), with the lower bound 0 when ``num == 0``
    and the upper bound 1 when ``num == den`` (Brown, Cai & DasGupta 2001).
    NaN where ``den`` is 0 or missing.

    Examples
    --------
    >>> lo, hi = jeffreys_interval([0, 5, 10], [10, 10, 10])
    >>> np.round(lo, 3).tolist(), np.round(hi, 3).tolist()
    ([0.0, 0.262, 0.829], [0.171, 0.738, 1.0])
    """
    x = np.asarray(num, dtype=np.float64)
    n = np.asarray(den, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    a = np.where(ok, x + 0.5, 1.0)
    b = np.where(ok, n - x + 0.5, 1.0)
    tail = (1 - level) / 2
    lo = np.where(x <= 0, 0.0, special.betaincinv(a, b, tail))
    hi = np.where(x >= n, 1.0, special.betaincinv(a, b, 1 - tail))
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def posterior_variance(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Variance of the Jeffreys posterior Beta(num + 1/2, den - num + 1/2) of a rate.

    The sampling error of a part: :func:`participation_index` sums it over the
    observed parts for ``index_se``.

    Examples
    --------
    >>> posterior_variance(np.array([5.0]), np.array([10.0])).round(4).tolist()
    [0.0208]
    """
    a = num + 0.5
    b = den - num + 0.5
    return a * b / ((a + b) ** 2 * (a + b + 1))


def rate_intervals(frame: pl.DataFrame, rates: Sequence[str], level: float = LEVEL) -> pl.DataFrame:
    """Add ``<rate>_low`` and ``<rate>_high`` (Jeffreys) after each rate's ``_den`` column.

    A rate that is null (unobservable, or a denominator under the minimum) gets
    null bounds too.

    Examples
    --------
    >>> f = pl.DataFrame({"r": [0.5, None], "r_num": [5, 1], "r_den": [10, 3]})
    >>> rate_intervals(f, ["r"]).columns
    ['r', 'r_num', 'r_den', 'r_low', 'r_high']
    >>> rate_intervals(f, ["r"])["r_high"].round(3).to_list()
    [0.738, None]
    """
    add = []
    for rate in rates:
        num = frame.get_column(f"{rate}_num").cast(pl.Float64).to_numpy()
        den = frame.get_column(f"{rate}_den").cast(pl.Float64).to_numpy()
        lo, hi = jeffreys_interval(num, den, level)
        known = frame.get_column(rate).is_not_null().to_numpy()
        add += [
            pl.Series(f"{rate}_low", np.where(known, lo, np.nan)).fill_nan(None),
            pl.Series(f"{rate}_high", np.where(known, hi, np.nan)).fill_nan(None),
        ]
    out = frame.with_columns(add)
    order: list[str] = []
    for name in frame.columns:
        order.append(name)
        if name.endswith("_den") and name[:-4] in rates:
            order += [f"{name[:-4]}_low", f"{name[:-4]}_high"]
    return out.select(order)


def index_columns() -> list[str]:
    """The columns :func:`participation_index` adds, in order.

    Examples
    --------
    >>> index_columns()
    ['participation_index', 'index_low', 'index_high', 'index_se', 'parts_observed']
    """
    return ["participation_index", "index_low", "index_high", "index_se", "parts_observed"]


def part_masks(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which parts each row's index rests on, and whether it lacks one for want of evidence.

    A part is *observed* where its value is not null. A part is *short* where its
    value is null but its ``_den`` is not: the input shows the signal (an
    unobservable part has a null denominator too) and the leader's denominator is
    under the minimum — it posts too little for the part to be measured.

    Returns
    -------
    observed : numpy.ndarray of bool, shape (rows, len(PARTS))
        In :data:`PARTS` order.
    short : numpy.ndarray of bool, shape (rows,)
        The row lacks at least one part the input shows.

    Examples
    --------
    >>> f = pl.DataFrame({p: [0.5] * 3 for p in PARTS} | {f"{p}_den": [9] * 3 for p in PARTS})
    >>> f = f.with_columns(  # row 1: too few posts for mentions; row 2: no reactions shown
    ...     mention_share=pl.Series([0.5, None, 0.5]), mention_share_den=pl.Series([9, 3, 9]),
    ...     see_breadth=pl.Series([0.5, 0.5, None]), see_breadth_den=pl.Series([9, 9, None]))
    >>> observed, short = part_masks(f)
    >>> observed.sum(axis=1).tolist(), short.tolist()
    ([5, 4, 4], [False, True, False])
    """
    observed = np.column_stack([frame.get_column(p).is_not_null().to_numpy() for p in PARTS])
    shown = np.column_stack([frame.get_column(f"{p}_den").is_not_null().to_numpy() for p in PARTS])
    return observed, (shown & ~observed).any(axis=1)


def participation_index(frame: pl.DataFrame, level: float = LEVEL) -> pl.DataFrame:
    """Add the participation index, its interval and the number of parts it rests on.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per leader (per window) with every part of :data:`PARTS` and its
        ``_num`` and ``_den`` columns; a part is *observed* where its value is
        not null (the measures make it null when the signal is unobservable or
        the denominator is under the minimum).
    level : float
        Coverage of the interval.

    Returns
    -------
    polars.DataFrame
        ``frame`` with :func:`index_columns`: ``participation_index`` (mean of
        the observed parts), ``index_low``/``index_high`` (index ± z·se, within
        [0, 1]), ``index_se`` (square root of the summed Jeffreys posterior
        variances of the observed parts, divided by their number) and
        ``parts_observed``. The index and its interval are null with fewer than
        :data:`MIN_PARTS` observed parts.

    Examples
    --------
    >>> f = pl.DataFrame({p: [0.5] for p in PARTS} | {f"{p}_num": [10] for p in PARTS}
    ...     | {f"{p}_den": [20] for p in PARTS})
    >>> row = participation_index(f).row(0, named=True)
    >>> row["participation_index"], row["parts_observed"], round(row["index_low"], 3)
    (0.5, 5, 0.422)
    """
    n = frame.height
    value = np.empty((n, len(PARTS)))
    var = np.zeros((n, len(PARTS)))
    for j, part in enumerate(PARTS):
        value[:, j] = frame.get_column(part).cast(pl.Float64).fill_null(np.nan).to_numpy()
        num = frame.get_column(f"{part}_num").cast(pl.Float64).fill_null(0).to_numpy()
        den = frame.get_column(f"{part}_den").cast(pl.Float64).fill_null(0).to_numpy()
        var[:, j] = posterior_variance(num, den)
    observed = ~np.isnan(value)
    k = observed.sum(axis=1)
    enough = k >= MIN_PARTS
    kk = np.maximum(k, 1)
    index = np.where(enough, np.where(observed, value, 0.0).sum(axis=1) / kk, np.nan)
    se = np.where(enough, np.sqrt(np.where(observed, var, 0.0).sum(axis=1)) / kk, np.nan)
    z = special.ndtri((1 + level) / 2)
    low = np.clip(index - z * se, 0, 1)
    high = np.clip(index + z * se, 0, 1)
    return frame.with_columns(
        pl.Series("participation_index", index).fill_nan(None),
        pl.Series("index_low", low).fill_nan(None),
        pl.Series("index_high", high).fill_nan(None),
        pl.Series("index_se", se).fill_nan(None),
        pl.Series("parts_observed", k.astype(np.int64)),
    )
