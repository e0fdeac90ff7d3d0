"""Check the leader labels against planted styles: calibration, accuracy, separation.

The label of a leader (:func:`tribe_analysis.profiles.decide`) comes from its own
participation index, standard error and observed parts through fixed constants
(:data:`~tribe_analysis.profiles.PARTICIPATOR_THRESHOLD`,
:data:`~tribe_analysis.profiles.PART_COVARIANCE`,
:data:`~tribe_analysis.profiles.FEW_PARTS_SPREAD`,
:data:`~tribe_analysis.profiles.CONFIDENCE`). This module simulates tribes whose
leaders' styles are planted — by :func:`tribe_analysis.synth.simulate_tribe`
(design ``"synth"``) and by the independently written
:func:`tribe_analysis.synth_forum.simulate_forum` (designs ``"forum"`` and
``"microblog"``, with platform variants) — labels them, and measures how well the
stated probabilities and labels match the truth:

* :func:`planted_leaders` — one row per simulated leader: truth, index, label;
* :func:`reliability_table` and :func:`expected_calibration_error` — is a stated
  ``p_participator`` of 0.8 right 80% of the time?
* :func:`decision_table` and :func:`decision_summary` — share decided, accuracy
  among decided labels, confident mistakes;
* :func:`style_gap` — does every planted participator score above every planted
  broadcaster?
* :func:`fit_threshold` and :func:`relabel` — the maximum-likelihood threshold and
  spread scale of the probit ``p = Phi((index - t) / sqrt(se**2 + tau**2))`` on a
  set of leaders, and the labels other constants would give (for held-out checks);
  :func:`fit_spread` — the spread of one group of leaders (e.g. those whose index
  averages the same parts); :func:`part_covariance` — the covariance of the parts
  among leaders of one style, where ``tau`` comes from.

``benchmarks/validation.py`` runs these over many seeds and writes
``docs/validation_synthetic.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import optimize, stats

from tribe_analysis import profiles
from tribe_analysis.features import leader_measures
from tribe_analysis.participation import (
    MIN_AUTHORED,
    MIN_PARTS,
    PARTS,
    part_masks,
    posterior_variance,
)

__all__ = [
    "DESIGNS",
    "decision_summary",
    "decision_table",
    "expected_calibration_error",
    "fit_spread",
    "fit_threshold",
    "part_covariance",
    "planted_leaders",
    "relabel",
    "reliability_table",
    "style_gap",
]

DESIGNS: tuple[str, ...] = ("synth", "forum", "microblog")
"""Simulator designs: ``synth`` (:mod:`tribe_analysis.synth`), ``forum`` and
``microblog`` (:mod:`tribe_analysis.synth_forum`)."""

SYNTH_DEFAULTS: dict[str, Any] = {"n_leaders": 40, "days": 60}
"""Arguments of :func:`~tribe_analysis.synth.simulate_tribe` unless overridden."""

CONFIDENT = 0.95
"""A wrong label stated with at least this probability counts as a confident mistake."""

_PLATFORM_FACTS = {"no_reactions": "reaction", "no_shares": "share", "no_mentions": "mention"}
"""Platform variant of the forum simulator -> key of the reader-style observability facts."""

_PART_COLUMNS = {"": pl.Float64, "_num": pl.Int64, "_den": pl.Int64}

_SCHEMA = {
    "design": pl.String,
    "platform": pl.String,
    "seed": pl.Int64,
    "leader_id": pl.String,
    "style": pl.String,
    "mix": pl.Float64,
    "participation_index": pl.Float64,
    "index_se": pl.Float64,
    "parts_observed": pl.Int64,
    "authored": pl.Int64,
    "profile": pl.String,
    "probability": pl.Float64,
    "p_participator": pl.Float64,
    **{f"{part}{end}": dtype for part in PARTS for end, dtype in _PART_COLUMNS.items()},
}


def _simulate(design: str, seed: int, kwargs: dict[str, Any]):
    """Simulated tribe, its platform label and the platform's observability facts."""
    if design == "synth":
        from tribe_analysis.synth import simulate_tribe

        if "platform" in kwargs:
            raise ValueError("design 'synth' has no platform variants")
        return simulate_tribe(**(SYNTH_DEFAULTS | kwargs), seed=seed), "full", None
    if design in ("forum", "microblog"):
        from tribe_analysis.synth_forum import simulate_forum

        tribe = simulate_forum(**kwargs, seed=seed, design=design)
        facts = {_PLATFORM_FACTS[v]: False for v in tribe.platform if v in _PLATFORM_FACTS}
        return tribe, "+".join(tribe.platform), facts or None
    raise ValueError(f"unknown design {design!r} (expected one of {', '.join(DESIGNS)})")


def planted_leaders(design: str, seeds: int | Iterable[int], **kwargs: Any) -> pl.DataFrame:
    """Simulate tribes with planted styles and label their leaders, one row per leader.

    Parameters
    ----------
    design : {"synth", "forum", "microblog"}
        ``"synth"`` runs :func:`tribe_analysis.synth.simulate_tribe` (40 leaders,
        60 days unless ``kwargs`` say otherwise); ``"forum"`` and ``"microblog"``
        run :func:`tribe_analysis.synth_forum.simulate_forum` with that design.
    seeds : int or iterable of int
        One simulated tribe per seed.
    **kwargs
        Passed to the simulator (e.g. ``n_leaders``, ``days``, ``mixed_share``,
        ``styles``; ``platform`` for the forum designs, whose hidden signals are
        also passed as platform facts to :func:`~tribe_analysis.features.leader_measures`).

    Returns
    -------
    polars.DataFrame
        ``design``, ``platform`` (``"full"`` or the variants joined by ``+``),
        ``seed``, ``leader_id``, ``style`` (planted primary style), ``mix``
        (share borrowed from the other style), ``participation_index``,
        ``index_se``, ``parts_observed``, ``authored`` (the leader's posts,
        replies and shares), ``profile``, ``probability`` (of the profile; null
        when undetermined) and ``p_participator`` (null without an index or with
        too few authored actions), from :func:`~tribe_analysis.profiles.decide`
        with its default constants, as :class:`~tribe_analysis.profiles.LeaderProfiler`
        labels; then each part of :data:`~tribe_analysis.participation.PARTS`
        with its ``_num`` and ``_den`` (what :func:`relabel` and
        :func:`part_covariance` read). Sorted by seed then leader.

    Examples
    --------
    >>> frame = planted_leaders("synth", [1], n_leaders=4, days=20)
    >>> frame.select("design", "platform", "seed").unique().rows()
    [('synth', 'full', 1)]
    >>> frame.columns[3:6], frame.height
    (['leader_id', 'style', 'mix'], 4)
    """
    seeds = [seeds] if isinstance(seeds, int | np.integer) else list(seeds)
    frames = []
    for seed in seeds:
        tribe, platform, facts = _simulate(design, int(seed), dict(kwargs))
        leaders = tribe.truth.get_column("leader_id").to_list()
        measures = leader_measures(tribe.events, leaders, ego=False, observability=facts).select(
            "leader_id",
            "participation_index",
            "index_se",
            "parts_observed",
            "authored",
            *[f"{part}{end}" for part in PARTS for end in _PART_COLUMNS],
        )
        frame = measures.join(
            tribe.truth.select("leader_id", "style", "mix"), on="leader_id", how="left"
        ).with_columns(
            pl.lit(design).alias("design"),
            pl.lit(platform).alias("platform"),
            pl.lit(int(seed)).alias("seed"),
        )
        frames.append(relabel(frame))
    if not frames:
        return pl.DataFrame(schema=_SCHEMA)
    typed = pl.concat(frames).select(_SCHEMA.keys()).cast(_SCHEMA)  # type: ignore[arg-type]
    return typed.sort("seed", "leader_id")


def relabel(
    frame: pl.DataFrame,
    *,
    threshold: float = profiles.PARTICIPATOR_THRESHOLD,
    spread_scale: float = 1.0,
    confidence: float = profiles.CONFIDENCE,
    few_parts_spread: float = profiles.FEW_PARTS_SPREAD,
    covariance: Sequence[Sequence[float]] = profiles.PART_COVARIANCE,
) -> pl.DataFrame:
    """``frame`` with ``profile``, ``probability`` and ``p_participator`` from :func:`~tribe_analysis.profiles.decide`.

    Parameters
    ----------
    frame : polars.DataFrame
        Has ``participation_index``, ``index_se``, each part of
        :data:`~tribe_analysis.participation.PARTS` and its ``_den`` (see
        :func:`~tribe_analysis.participation.part_masks`); and ``authored`` when
        the minimum of authored actions is to apply.
    threshold, spread_scale, confidence, few_parts_spread : float
        The constants of :func:`~tribe_analysis.profiles.decide`.
    covariance : array-like
        Its covariance of the parts (e.g. one estimated on other leaders by
        :func:`part_covariance`, for held-out checks).

    Returns
    -------
    polars.DataFrame
        ``frame`` with the three columns replaced or added.

    Examples
    --------
    >>> f = pl.DataFrame({"participation_index": [0.1, 0.5], "index_se": [0.02, 0.02]}
    ...     | {p: [0.3, 0.3] for p in PARTS} | {f"{p}_den": [20, 20] for p in PARTS})
    >>> relabel(f)["profile"].to_list(), relabel(f, threshold=0.6)["profile"].to_list()
    (['broadcaster', 'participator'], ['broadcaster', 'undetermined'])
    """
    observed, short = part_masks(frame)
    label, prob, p = profiles.decide(
        frame.get_column("participation_index").cast(pl.Float64).fill_null(np.nan).to_numpy(),
        frame.get_column("index_se").cast(pl.Float64).fill_null(np.nan).to_numpy(),
        observed,
        short=short,
        threshold=threshold,
        spread_scale=spread_scale,
        confidence=confidence,
        few_parts_spread=few_parts_spread,
        covariance=covariance,
        authored=frame.get_column("authored").fill_null(0).to_numpy()
        if "authored" in frame.columns
        else None,
    )
    return frame.with_columns(
        pl.Series("profile", label.tolist(), dtype=pl.String),
        pl.Series("probability", prob, dtype=pl.Float64).fill_nan(None),
        pl.Series("p_participator", p, dtype=pl.Float64).fill_nan(None),
    )


def reliability_table(frame: pl.DataFrame, bins: int = 10) -> pl.DataFrame:
    """Stated ``p_participator`` against the observed share of planted participators.

    Leaders with a ``p_participator`` are put in ``bins`` equal-width bins of
    [0, 1] (1 falls in the last bin); empty bins are left out.

    Parameters
    ----------
    frame : polars.DataFrame
        From :func:`planted_leaders` (``p_participator`` and ``style``).
    bins : int
        Number of bins.

    Returns
    -------
    polars.DataFrame
        ``bin_low``, ``bin_high``, ``n``, ``stated`` (mean ``p_participator``),
        ``observed`` (share whose planted style is participator) and ``gap``
        (``observed - stated``), by bin.

    Examples
    --------
    >>> f = pl.DataFrame({"p_participator": [0.05, 0.02, 0.97, 0.55, None],
    ...     "style": ["broadcaster", "broadcaster", "participator", "broadcaster", "participator"]})
    >>> reliability_table(f, bins=2).select("bin_low", "n", "observed").rows()
    [(0.0, 2, 0.0), (0.5, 2, 0.5)]
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    p = pl.col("p_participator")
    # Edges k / bins as Python divides them (polars multiplies by 1 / bins: 0.30000000000000004),
    # and each p in the bin whose edges hold it (p * bins is 56.99999999999999 for p = 0.57).
    edges = pl.Series([k / bins for k in range(bins + 1)], dtype=pl.Float64)
    guess = (p * bins).floor().clip(0, bins - 1).cast(pl.Int64)
    fixed = (
        pl.when((p < pl.lit(edges).gather(guess)) & (guess > 0))
        .then(guess - 1)
        .when((p >= pl.lit(edges).gather(guess + 1)) & (guess < bins - 1))
        .then(guess + 1)
        .otherwise(guess)
    )
    return (
        frame.filter(p.is_not_null() & p.is_not_nan())
        .with_columns(fixed.alias("_bin"))
        .group_by("_bin")
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            p.mean().alias("stated"),
            (pl.col("style") == "participator").mean().alias("observed"),
        )
        .sort("_bin")
        .select(
            pl.lit(edges).gather(pl.col("_bin")).alias("bin_low"),
            pl.lit(edges).gather(pl.col("_bin") + 1).alias("bin_high"),
            "n",
            "stated",
            "observed",
            (pl.col("observed") - pl.col("stated")).alias("gap"),
        )
    )


def expected_calibration_error(frame: pl.DataFrame, bins: int = 10) -> float:
    """Mean over leaders of ``|stated - observed|`` of their reliability bin.

    The bins of :func:`reliability_table`, weighted by their number of leaders
    (Naeini, Cooper & Hauskrecht 2015). NaN when no leader has a probability.

    Examples
    --------
    >>> f = pl.DataFrame({"p_participator": [0.05, 0.02, 0.97, 0.55],
    ...     "style": ["broadcaster", "broadcaster", "participator", "broadcaster"]})
    >>> round(expected_calibration_error(f, bins=2), 4)
    0.1475
    """
    table = reliability_table(frame, bins)
    n = table.get_column("n").to_numpy()
    if n.sum() == 0:
        return float("nan")
    gap = np.abs(table.get_column("gap").to_numpy())
    return float((n * gap).sum() / n.sum())


def decision_table(
    frame: pl.DataFrame, by: Sequence[str] = ("design", "platform"), bins: int = 10
) -> pl.DataFrame:
    """Share decided, accuracy and confident mistakes per group of leaders.

    Parameters
    ----------
    frame : polars.DataFrame
        From :func:`planted_leaders`.
    by : sequence of str
        Grouping columns; empty for a single row over every leader.
    bins : int
        Bins of the expected calibration error.

    Returns
    -------
    polars.DataFrame
        ``by`` columns, then ``leaders``, ``measured`` (with a ``p_participator``),
        ``decided`` (labelled participator or broadcaster), ``decided_share``
        (of all leaders), ``accuracy`` (decided labels equal to the planted
        style; null when none decided), ``wrong``, ``wrong_confident`` (wrong
        with ``probability >= 0.95``) and ``ece``. Sorted by ``by``.

    Examples
    --------
    >>> f = pl.DataFrame({"design": ["a", "a", "a"], "style": ["broadcaster"] * 3,
    ...     "profile": ["broadcaster", "participator", "undetermined"],
    ...     "probability": [0.99, 0.96, None], "p_participator": [0.01, 0.96, 0.5]})
    >>> decision_table(f, by=["design"]).select("decided", "accuracy", "wrong_confident").row(0)
    (2, 0.5, 1)
    """
    by = list(by)
    decided = pl.col("profile") != profiles.PROFILES[2]
    wrong = decided & (pl.col("profile") != pl.col("style"))
    stats_ = [
        pl.len().cast(pl.Int64).alias("leaders"),
        pl.col("p_participator").is_not_null().sum().cast(pl.Int64).alias("measured"),
        decided.sum().cast(pl.Int64).alias("decided"),
        decided.mean().alias("decided_share"),
        (pl.col("profile") == pl.col("style")).filter(decided).mean().alias("accuracy"),
        wrong.sum().cast(pl.Int64).alias("wrong"),
        (wrong & (pl.col("probability") >= CONFIDENT))
        .sum()
        .cast(pl.Int64)
        .alias("wrong_confident"),
    ]
    if by:
        groups = frame.partition_by(by, maintain_order=True, as_dict=True)
        table = frame.group_by(by).agg(stats_)
        ece = pl.DataFrame(
            [(*key, expected_calibration_error(part, bins)) for key, part in groups.items()],
            schema=[*by, "ece"],
            orient="row",
        ).with_columns(pl.col("ece").cast(pl.Float64))
        ece = ece.cast({c: frame.schema[c] for c in by})
        return table.join(ece, on=by, how="left").sort(by)
    return frame.select(stats_).with_columns(
        pl.lit(expected_calibration_error(frame, bins), pl.Float64).alias("ece")
    )


def decision_summary(frame: pl.DataFrame, bins: int = 10) -> dict[str, float | int | None]:
    """:func:`decision_table` over every leader of ``frame``, as a dict.

    Examples
    --------
    >>> f = pl.DataFrame({"style": ["participator", "broadcaster"],
    ...     "profile": ["participator", "undetermined"], "probability": [0.97, None],
    ...     "p_participator": [0.97, 0.4]})
    >>> s = decision_summary(f)
    >>> s["decided_share"], s["accuracy"], s["wrong_confident"]
    (0.5, 1.0, 0)
    """
    return decision_table(frame, by=(), bins=bins).row(0, named=True)


def style_gap(
    frame: pl.DataFrame, by: Sequence[str] = ("design", "platform", "seed")
) -> pl.DataFrame:
    """How far apart the planted styles' indices lie, per run.

    ``gap`` is the lowest planted participator's index minus the highest planted
    broadcaster's: positive when every planted participator scores above every
    planted broadcaster. ``ordered_share`` is the share of (participator,
    broadcaster) pairs in which the participator scores higher, ties counting
    half (the area under the ROC curve of the index, Mann-Whitney U / pairs).
    Leaders without an index are left out.

    Returns
    -------
    polars.DataFrame
        ``by`` columns, ``participators``, ``broadcasters`` (with an index),
        ``participator_min``, ``broadcaster_max``, ``gap`` and ``ordered_share``
        (null when a run lacks one of the styles). Sorted by ``by``.

    Examples
    --------
    >>> f = pl.DataFrame({"seed": [0, 0, 0], "style": ["participator", "broadcaster", "broadcaster"],
    ...     "participation_index": [0.4, 0.2, 0.5]})
    >>> [round(x, 3) for x in style_gap(f, by=["seed"]).select("gap", "ordered_share").row(0)]
    [-0.1, 0.5]
    """
    index = pl.col("participation_index")
    is_p = pl.col("style") == "participator"
    is_b = pl.col("style") == "broadcaster"
    n_p = pl.col("participators").cast(pl.Float64)
    n_b = pl.col("broadcasters").cast(pl.Float64)
    return (
        frame.filter(index.is_not_null() & index.is_not_nan() & (is_p | is_b))
        .group_by(list(by))
        .agg(
            is_p.sum().cast(pl.Int64).alias("participators"),
            is_b.sum().cast(pl.Int64).alias("broadcasters"),
            index.filter(is_p).min().alias("participator_min"),
            index.filter(is_b).max().alias("broadcaster_max"),
            index.rank("average").filter(is_p).sum().cast(pl.Float64).alias("_ranks"),
        )
        .with_columns(
            (pl.col("participator_min") - pl.col("broadcaster_max")).alias("gap"),
            pl.when((n_p > 0) & (n_b > 0))
            .then((pl.col("_ranks") - n_p * (n_p + 1) / 2) / (n_p * n_b))
            .alias("ordered_share"),
        )
        .drop("_ranks")
        .sort(list(by))
    )


def _judged(frame: pl.DataFrame) -> pl.DataFrame:
    """The leaders :func:`~tribe_analysis.profiles.decide` judges: an index on enough parts and actions."""
    index = pl.col("participation_index")
    keep = index.is_not_null() & index.is_not_nan()
    if "parts_observed" in frame.columns:
        keep &= pl.col("parts_observed") >= MIN_PARTS
    if "authored" in frame.columns:
        keep &= pl.col("authored") >= MIN_AUTHORED
    return frame.filter(keep)


def _probit_data(data: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = data.get_column("participation_index").cast(pl.Float64).to_numpy()
    se = data.get_column("index_se").cast(pl.Float64).fill_null(0.0).to_numpy()
    sign = np.where(data.get_column("style").to_numpy() == "participator", 1.0, -1.0)
    return x, se, sign


def fit_threshold(
    frame: pl.DataFrame,
    start: tuple[float, float] = (0.35, 1.0),
    *,
    few_parts_spread: float = profiles.FEW_PARTS_SPREAD,
) -> dict[str, float]:
    """Maximum-likelihood threshold and spread scale of the probit on planted styles.

    Maximises ``sum log Phi(s * (index - t) / sqrt(se**2 + tau**2))`` with
    ``s = +1`` for planted participators and ``-1`` for broadcasters, where
    ``tau`` is :func:`~tribe_analysis.profiles.style_spread` of each leader's
    observed parts times the scale (fitted on the log scale; leaders on
    :data:`~tribe_analysis.participation.MIN_PARTS` parts short of a part the
    platform shows keep ``few_parts_spread``), over the leaders
    :func:`~tribe_analysis.profiles.decide` would judge (an index on at least
    ``MIN_PARTS`` parts and, when the column is there, at least
    :data:`~tribe_analysis.participation.MIN_AUTHORED` ``authored`` actions).

    Parameters
    ----------
    frame : polars.DataFrame
        ``participation_index``, ``index_se``, ``style`` and the parts with
        their ``_den`` (as :func:`planted_leaders` gives them).
    start : tuple of float
        Starting ``(t, scale)``.
    few_parts_spread : float
        The spread of short 3-part indices, held fixed.

    Returns
    -------
    dict
        ``threshold``, ``spread_scale``, ``log_likelihood`` (at the optimum) and ``n``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> style = np.repeat(["broadcaster", "participator"], 500)
    >>> index = np.where(style == "participator", 0.45, 0.15) + rng.normal(0, 0.08, 1000)
    >>> f = pl.DataFrame({"participation_index": index, "index_se": np.full(1000, 0.03),
    ...     "style": style} | {p: 0.3 for p in PARTS} | {f"{p}_den": 20 for p in PARTS})
    >>> fit = fit_threshold(f)
    >>> round(fit["threshold"], 1), fit["spread_scale"] < 1  # two styles well apart
    (0.3, True)
    """
    data = _judged(frame)
    if data.height == 0:
        raise ValueError("no leader with a participation index to fit on")
    x, se, sign = _probit_data(data)
    observed, short = part_masks(data)

    def negative(theta: np.ndarray) -> float:
        t, log_scale = theta
        tau = profiles.style_spread(
            observed, short, scale=float(np.exp(log_scale)), few_parts_spread=few_parts_spread
        )
        z = sign * (x - t) / np.sqrt(se**2 + tau**2)
        return -float(stats.norm.logcdf(z).sum())

    result = optimize.minimize(
        negative,
        np.array([start[0], np.log(start[1])]),
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 2000},
    )
    return {
        "threshold": float(result.x[0]),
        "spread_scale": float(np.exp(result.x[1])),
        "log_likelihood": -float(result.fun),
        "n": int(x.size),
    }


def fit_spread(
    frame: pl.DataFrame, threshold: float = profiles.PARTICIPATOR_THRESHOLD
) -> dict[str, float]:
    """Maximum-likelihood spread of one group of leaders, the threshold held fixed.

    The probit of :func:`fit_threshold` with one ``tau`` for every leader of
    ``frame`` that :func:`~tribe_analysis.profiles.decide` would judge: how far
    apart leaders of one style sit, e.g. among leaders whose index averages the
    same parts (to set beside :func:`~tribe_analysis.profiles.style_spread`).

    Returns
    -------
    dict
        ``spread`` and ``n`` (leaders fitted on).

    Raises
    ------
    ValueError
        When no leader of ``frame`` is judged.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> style = np.repeat(["broadcaster", "participator"], 500)
    >>> index = np.where(style == "participator", 0.5, 0.2) + rng.normal(0, 0.15, 1000)
    >>> fit = fit_spread(pl.DataFrame({"participation_index": index, "index_se": 0.0,
    ...     "parts_observed": 3, "style": style}))
    >>> 0.1 < fit["spread"] < 0.2, fit["n"]
    (True, 1000)
    """
    data = _judged(frame)
    if data.height == 0:
        raise ValueError("no leader with a participation index to fit on")
    x, se, sign = _probit_data(data)

    def negative(log_tau: float) -> float:
        z = sign * (x - threshold) / np.sqrt(se**2 + np.exp(2 * log_tau))
        return -float(stats.norm.logcdf(z).sum())

    result = optimize.minimize_scalar(negative, bounds=(np.log(1e-3), 0.0), method="bounded")
    return {"spread": float(np.exp(result.x)), "n": int(x.size)}


def part_covariance(frame: pl.DataFrame) -> np.ndarray:
    """Covariance of the parts among leaders of one style, beyond sampling error.

    Over the leaders of ``frame`` with at least
    :data:`~tribe_analysis.participation.MIN_AUTHORED` ``authored`` actions
    whose index lacks no part the input shows (see
    :func:`~tribe_analysis.participation.part_masks`): each part minus the mean
    of the leader's planted style, the mean product of two parts over the
    leaders that have both, and on the diagonal the mean Jeffreys posterior
    variance of the part (its sampling error, which ``index_se`` carries)
    taken off. Where :data:`~tribe_analysis.profiles.PART_COVARIANCE` comes
    from (``benchmarks/validation.py``).

    Parameters
    ----------
    frame : polars.DataFrame
        ``style``, ``authored`` and each part of
        :data:`~tribe_analysis.participation.PARTS` with its ``_num`` and
        ``_den`` (as :func:`planted_leaders` gives them).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(PARTS), len(PARTS))``, in :data:`PARTS` order.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> style = np.repeat(["broadcaster", "participator"], 2000)
    >>> level = np.where(style == "participator", 0.6, 0.2) + rng.normal(0, 0.1, 4000)
    >>> f = pl.DataFrame({"style": style, "authored": 50} | {p: level for p in PARTS}
    ...     | {f"{p}_num": 10**6 for p in PARTS} | {f"{p}_den": 10**8 for p in PARTS})
    >>> np.round(part_covariance(f), 2)[0].tolist()
    [0.01, 0.01, 0.01, 0.01, 0.01]
    """
    observed, short = part_masks(frame)
    keep = ~short & (frame.get_column("authored").to_numpy() >= MIN_AUTHORED)
    value = np.column_stack(
        [frame.get_column(p).cast(pl.Float64).fill_null(np.nan).to_numpy() for p in PARTS]
    )[keep]
    noise = np.column_stack(
        [
            posterior_variance(
                frame.get_column(f"{p}_num").cast(pl.Float64).fill_null(0).to_numpy(),
                frame.get_column(f"{p}_den").cast(pl.Float64).fill_null(0).to_numpy(),
            )
            for p in PARTS
        ]
    )[keep]
    noise[~observed[keep]] = np.nan
    style = frame.get_column("style").to_numpy()[keep]
    centred = np.full_like(value, np.nan)
    for one in np.unique(style):
        rows = style == one
        centred[rows] = value[rows] - np.nanmean(value[rows], axis=0)
    n = len(PARTS)
    cov = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            both = ~np.isnan(centred[:, i]) & ~np.isnan(centred[:, j])
            cov[i, j] = float(np.mean(centred[both, i] * centred[both, j]))
        cov[i, i] -= float(np.nanmean(noise[:, i]))
    return cov
