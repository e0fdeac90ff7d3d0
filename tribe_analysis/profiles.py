"""Leader profiles: each leader's own label, with evidence, and sub-profiles by clustering.

The label is the leader's own (``docs/methods.md``, *Profiles*): ``participator``,
``broadcaster`` or ``undetermined`` from the leader's participation index and its
interval (:mod:`tribe_analysis.participation`), never from the company it is
profiled in. :class:`LeaderProfiler`, a scikit-learn estimator, then clusters the
decided leaders of each label with a Gaussian mixture (number of clusters by BIC)
to find sub-profiles — responder, commenter, conversation starter, promoter,
announcer, ... — named only from measures the input lets us observe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted, check_random_state
from threadpoolctl import threadpool_limits

from tribe_analysis.participation import MIN_AUTHORED, MIN_PARTS, PARTS, part_masks

__all__ = [
    "CONFIDENCE",
    "FEW_PARTS_SPREAD",
    "PARTICIPATOR_THRESHOLD",
    "PART_COVARIANCE",
    "PROFILES",
    "SUB_FEATURES",
    "LeaderProfiler",
    "decide",
    "compare_periods",
    "describe_ways",
    "profile_leaders",
    "style_spread",
]

PROFILES: tuple[str, ...] = ("broadcaster", "participator", "undetermined")

PARTICIPATOR_THRESHOLD = 0.35
"""The participation index that separates the styles (see ``docs/methods.md``)."""

PART_COVARIANCE: tuple[tuple[float, ...], ...] = (
    (0.0301, 0.0010, 0.0220, 0.0116, 0.0062),
    (0.0010, 0.0231, 0.0064, 0.0017, 0.0004),
    (0.0220, 0.0064, 0.0300, 0.0176, 0.0072),
    (0.0116, 0.0017, 0.0176, 0.0138, 0.0049),
    (0.0062, 0.0004, 0.0072, 0.0049, 0.0120),
)
"""Covariance of the parts (:data:`PARTS` order) among leaders of one style, beyond sampling error.

Styles are tendencies: leaders of one style differ in how much they see, comment,
start conversations, answer and promote, and the parts move together (a leader
who answers more also starts more conversations). Estimated by
:func:`tribe_analysis.validation.part_covariance` on the two designs written
independently of the measures (``forum`` and ``microblog``, seeds 0-3, every
platform variant), over leaders whose index lacks no part the platform shows
(``benchmarks/validation.py``; ``docs/methods.md``, *The spread follows the parts*).
:func:`style_spread` turns it into the spread of an index on given parts.
"""

FEW_PARTS_SPREAD = 0.165
"""Spread of an index on :data:`MIN_PARTS` parts that lacks a part the platform shows.

Such a leader posts too little for the missing part (its denominator is under the
minimum), and the index of such leaders varies more than the covariance of the
parts says: fitted on the planted designs, 0.165, where :data:`PART_COVARIANCE`
gives 0.08-0.14 for three parts. Indices on the three parts a platform shows
(Stack Exchange, mailing lists: no reactions, no mentions) take the spread of
those parts instead (``docs/methods.md``, *The spread follows the parts*).
"""

CONFIDENCE = 0.9
"""Probability a style needs before it becomes the leader's label."""

SUB_FEATURES: tuple[str, ...] = (*PARTS, "broadcast_share", "alter_reciprocity")
"""Measures the sub-profile clustering uses (shares in [0, 1]; logit of clipped values)."""

NAMING_MEASURES: dict[str, str] = {
    "see_breadth": "watcher",
    "comment_share": "commenter",
    "conversation_share": "conversation starter",
    "answer_rate": "responder",
    "mention_share": "promoter",
    "broadcast_share": "announcer",
    "alter_reciprocity": "reciprocator",
}
"""Measure -> sub-profile noun, for the measure that most sets a cluster apart."""

_EPS = 0.02


def style_spread(
    observed: np.ndarray,
    short: np.ndarray | None = None,
    *,
    scale: float = 1.0,
    few_parts_spread: float = FEW_PARTS_SPREAD,
    covariance: Sequence[Sequence[float]] = PART_COVARIANCE,
) -> np.ndarray:
    """The spread τ of :func:`decide` for an index on the ``observed`` parts.

    τ² = mᵀ C m / k², with ``m`` the leader's observed parts (a row of
    ``observed``, :data:`PARTS` order), ``k`` their number and ``C`` the
    ``covariance`` (:data:`PART_COVARIANCE`): the variance, among leaders of one
    style, of the mean of those parts. Times ``scale``. An index on
    :data:`MIN_PARTS` parts that is ``short`` of a part the platform shows
    (:func:`tribe_analysis.participation.part_masks`) takes ``few_parts_spread``.
    NaN without an observed part.

    Examples
    --------
    >>> every = [True] * 5
    >>> se_like = [False, True, True, True, False]  # no reactions, no mentions shown
    >>> np.round(style_spread(np.array([every, se_like, se_like]),
    ...     np.array([False, False, True])), 3).tolist()
    [0.103, 0.115, 0.165]
    """
    observed = np.atleast_2d(np.asarray(observed, dtype=np.float64))
    k = observed.sum(axis=1)
    cov = np.asarray(covariance, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = scale * np.sqrt(np.einsum("ni,ij,nj->n", observed, cov, observed)) / k
    if short is not None:
        tau = np.where(np.asarray(short) & (k <= MIN_PARTS), few_parts_spread, tau)
    return np.where(k > 0, tau, np.nan)


def decide(
    index: np.ndarray,
    se: np.ndarray,
    observed: np.ndarray,
    *,
    short: np.ndarray | None = None,
    threshold: float = PARTICIPATOR_THRESHOLD,
    spread_scale: float = 1.0,
    confidence: float = CONFIDENCE,
    authored: np.ndarray | None = None,
    few_parts_spread: float = FEW_PARTS_SPREAD,
    covariance: Sequence[Sequence[float]] = PART_COVARIANCE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label, probability of the label and probability of participating, per leader.

    ``p_participator = Phi((index - threshold) / sqrt(se**2 + tau**2))``, with
    ``tau`` the :func:`style_spread` of the leader's ``observed`` parts (an array
    of shape (leaders, len(PARTS)); ``short``: the leader lacks a part the
    platform shows, see :func:`tribe_analysis.participation.part_masks`). A
    leader is ``participator`` when it is at least ``confidence``,
    ``broadcaster`` when it is at most ``1 - confidence``, and ``undetermined``
    otherwise, with fewer than :data:`MIN_PARTS` observed parts (null index), or
    with fewer than :data:`MIN_AUTHORED` ``authored`` actions (when given).
    ``probability`` is the probability of the given label (null when
    undetermined). Only the leader's own values enter.

    Examples
    --------
    >>> parts = np.array([[True] * 5, [True] * 5, [True, True, True, True, False], [True] + [False] * 4])
    >>> label, prob, _ = decide(np.array([0.05, 0.7, 0.31, np.nan]),
    ...     np.array([0.02, 0.03, 0.02, np.nan]), parts)
    >>> label.tolist()
    ['broadcaster', 'participator', 'undetermined', 'undetermined']
    >>> np.round(prob, 3).tolist()[:2]
    [0.998, 0.999]
    """
    index = np.asarray(index, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    observed = np.atleast_2d(np.asarray(observed, dtype=bool))
    enough = (observed.sum(axis=1) >= MIN_PARTS) & ~np.isnan(index)
    if authored is not None:
        enough &= np.asarray(authored) >= MIN_AUTHORED
    tau = style_spread(
        observed,
        short,
        scale=spread_scale,
        few_parts_spread=few_parts_spread,
        covariance=covariance,
    )
    scale = np.sqrt(np.where(np.isnan(se), 0.0, se) ** 2 + np.nan_to_num(tau) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(enough, stats.norm.cdf((index - threshold) / scale), np.nan)
    label = np.full(index.shape, PROFILES[2], dtype=object)
    label[enough & (p >= confidence)] = PROFILES[1]
    label[enough & (p <= 1 - confidence)] = PROFILES[0]
    prob = np.where(label == PROFILES[1], p, np.where(label == PROFILES[0], 1 - p, np.nan))
    return label, prob, p


def _reason(
    label: str,
    index: float | None,
    low: float | None,
    high: float | None,
    parts: int,
    posts: int | None,
    threshold: float,
    authored: int | None = None,
    p_participator: float | None = None,
    spread: float | None = None,
    confidence: float = CONFIDENCE,
) -> str:
    """Why a leader got its label, in words (the ``reason`` column).

    An undetermined leader with enough evidence is not far enough from the
    threshold for its index: the words say on which side it is, and how far the
    index of one style spreads (``spread``, the one of :func:`decide` for its
    parts), since its interval alone may lie on one side. Its odds are shown
    with two decimals, or more where two would round them onto ``confidence``
    (0.8996 is "0.8996", not the "0.90" a label needs).

    Examples
    --------
    >>> _reason("undetermined", 0.52, 0.43, 0.60, 3, 40, 0.35, 60, 0.83, 0.165)
    'between styles: index 0.52 (0.43–0.60), 3 of 5 parts, not far enough above 0.35 (one style spreads ±0.17 on these 3 parts); participator 0.83, broadcaster 0.17'
    >>> _reason("undetermined", 0.49, 0.42, 0.56, 5, 40, 0.35, 60, 0.8996, 0.103).split("; ")[-1]
    'participator 0.8996, broadcaster 0.1004'
    """
    n = len(PARTS)
    few = authored is not None and authored < MIN_AUTHORED
    if index is None or parts < MIN_PARTS or few:
        volume = "" if posts is None else f", {posts} post{'s' if posts != 1 else ''}"
        if authored is not None:
            volume += f", {authored} authored action{'s' if authored != 1 else ''}"
        return f"insufficient evidence: {parts} of {n} parts observed{volume}"
    span = f"index {index:.2f} ({low:.2f}–{high:.2f}), {parts} of {n} parts"
    if label == PROFILES[2]:
        odds = "" if p_participator is None else "; " + _odds(p_participator, confidence)
        side = "above" if index > threshold else "below" if index < threshold else "from"
        spreads = (
            "" if spread is None else f" (one style spreads ±{spread:.2f} on these {parts} parts)"
        )
        return f"between styles: {span}, not far enough {side} {threshold:.2f}{spreads}{odds}"
    side = "above" if label == PROFILES[1] else "below"
    return f"{span}, {side} {threshold:.2f}"


def _odds(p: float, confidence: float) -> str:
    """An undetermined leader's odds, never rounded onto ``confidence``.

    ``participator p, broadcaster 1 - p`` with the fewest decimals (2 to 6) that
    keep both strictly between ``1 - confidence`` and ``confidence``, as they are.

    Examples
    --------
    >>> _odds(0.83, 0.9), _odds(0.8996, 0.9), _odds(0.10004, 0.9)
    ('participator 0.83, broadcaster 0.17', 'participator 0.8996, broadcaster 0.1004', 'participator 0.10004, broadcaster 0.89996')
    """
    for digits in range(2, 7):
        shown = round(p, digits)
        if (
            1 - confidence < shown < confidence
            and 1 - confidence < round(1 - p, digits) < confidence
        ):
            break
    return f"participator {p:.{digits}f}, broadcaster {1 - p:.{digits}f}"


def describe_ways(row: dict, *, strong: float = 0.5, rarely: float = 0.15) -> str:
    """The four ways (and answering) in words: "strong at commenting; rarely starts ...".

    A way is *strong* at or above ``strong``, *rare* under ``rarely`` and *not
    observed* where its part is null (unobservable or too little evidence).

    Examples
    --------
    >>> describe_ways({"see_breadth": None, "comment_share": 0.8, "conversation_share": 0.05,
    ...     "answer_rate": 0.3, "mention_share": None})
    'strong at commenting; sometimes answering; rarely starting conversations; not observed: seeing, promoting others'
    """
    groups: dict[str, list[str]] = {"strong": [], "some": [], "rare": [], "none": []}
    for part, way in PARTS.items():
        value = row.get(part)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            groups["none"].append(way)
        elif value >= strong:
            groups["strong"].append(way)
        elif value < rarely:
            groups["rare"].append(way)
        else:
            groups["some"].append(way)
    words = []
    if groups["strong"]:
        words.append("strong at " + ", ".join(groups["strong"]))
    if groups["some"]:
        words.append("sometimes " + ", ".join(groups["some"]))
    if groups["rare"]:
        words.append("rarely " + ", ".join(groups["rare"]))
    if groups["none"]:
        words.append("not observed: " + ", ".join(groups["none"]))
    return "; ".join(words)


class LeaderProfiler(ClusterMixin, BaseEstimator):
    """Label each leader from its own evidence, then find sub-profiles by clustering.

    ``fit`` labels every leader with :func:`decide` (its own participation
    index and interval), then, within each decided label, fits a diagonal
    Gaussian mixture on the logit of the observed :data:`SUB_FEATURES` (a
    measure null for every leader of the label is left out; other nulls are
    imputed with the label's median and never used to name a cluster). The
    number of clusters per label is ``n_profiles`` or, with ``"auto"``, the
    BIC-best of 1..``max_profiles``. Raw volume never enters.

    The mixtures are fitted on one thread: they start from k-means, whose
    OpenMP threads spin-waited between the hundred small fits of a run (tens
    of leaders), doubling the CPU time of profiling and taking a core from
    whatever else the process was doing (20 leaders: 0.21 s and 0.41 s of CPU
    on two cores, 0.13 s and 0.13 s on one; same clusters).

    Parameters
    ----------
    n_profiles : int or "auto", default "auto"
        Sub-profiles per decided label.
    threshold, spread_scale, confidence, few_parts_spread : float
        Passed to :func:`decide`.
    max_profiles : int, default 3
        Largest number of sub-profiles per label tried by ``"auto"``.
    n_bootstrap : int, default 30
        Bootstrap resamples for the cluster stability (0 to skip).
    random_state : int, RandomState or None
        Seed for the mixtures and the bootstrap.

    Attributes
    ----------
    profiles_ : ndarray of shape (n_leaders,)
        ``broadcaster``, ``participator`` or ``undetermined``.
    probability_ : ndarray of shape (n_leaders,)
        Probability of the label (NaN when undetermined).
    p_participator_ : ndarray of shape (n_leaders,)
        Probability that the leader participates (NaN without enough parts).
    labels_ : ndarray of shape (n_leaders,)
        Cluster of each leader (``-1`` for undetermined leaders).
    sub_profiles_ : list of str
        Name of each cluster, e.g. ``"participator · responder"``.
    stability_ : ndarray of shape (n_clusters,)
        Mean bootstrap Jaccard similarity per cluster (Hennig 2007: under 0.6
        unstable, over 0.75 stable); NaN when not computed.
    features_ : list of str
        The sub-profile features present in the fitted frame.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> from tribe_analysis.features import leader_measures
    >>> tribe = simulate_tribe(n_leaders=12, days=30, seed=4, mixed_share=0)
    >>> measures = leader_measures(tribe.events, tribe.leaders, ego=False)
    >>> profiler = LeaderProfiler(random_state=0).fit(measures)
    >>> decided = profiler.profiles_ != "undetermined"
    >>> bool((profiler.profiles_[decided] == tribe.truth["style"].to_numpy()[decided]).all())
    True
    """

    def __init__(
        self,
        n_profiles: int | str = "auto",
        *,
        threshold: float = PARTICIPATOR_THRESHOLD,
        spread_scale: float = 1.0,
        confidence: float = CONFIDENCE,
        few_parts_spread: float = FEW_PARTS_SPREAD,
        max_profiles: int = 3,
        n_bootstrap: int = 30,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_profiles = n_profiles
        self.threshold = threshold
        self.spread_scale = spread_scale
        self.confidence = confidence
        self.few_parts_spread = few_parts_spread
        self.max_profiles = max_profiles
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def _check(self, X) -> pl.DataFrame:
        if isinstance(X, pl.LazyFrame):
            X = X.collect()
        if not isinstance(X, pl.DataFrame):
            raise TypeError("LeaderProfiler takes the polars frame of features.leader_measures")
        need = ["participation_index", "index_se", "parts_observed"]
        need += [c for part in PARTS for c in (part, f"{part}_den")]
        missing = [c for c in need if c not in X.columns]
        if missing:
            raise ValueError(f"measures frame lacks {', '.join(missing)} (use leader_measures)")
        if not (
            self.n_profiles == "auto"
            or (isinstance(self.n_profiles, int | np.integer) and self.n_profiles >= 1)
        ):
            raise ValueError(
                f"n_profiles must be a positive integer or 'auto', got {self.n_profiles!r}"
            )
        return X

    def _decide(self, X: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        observed, short = part_masks(X)
        return decide(
            X.get_column("participation_index").cast(pl.Float64).fill_null(np.nan).to_numpy(),
            X.get_column("index_se").cast(pl.Float64).fill_null(np.nan).to_numpy(),
            observed,
            short=short,
            threshold=self.threshold,
            spread_scale=self.spread_scale,
            confidence=self.confidence,
            authored=X.get_column("authored").to_numpy() if "authored" in X.columns else None,
            few_parts_spread=self.few_parts_spread,
        )

    def fit(self, X, y=None):
        """Label the leaders of a measures frame and cluster each label into sub-profiles.

        Parameters
        ----------
        X : polars.DataFrame
            Output of :func:`tribe_analysis.features.leader_measures`.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        X = self._check(X)
        rng = check_random_state(self.random_state)
        self.profiles_, self.probability_, self.p_participator_ = self._decide(X)
        self.features_ = [f for f in SUB_FEATURES if f in X.columns]
        values = X.select(pl.col(self.features_).cast(pl.Float64).fill_null(np.nan)).to_numpy()
        self.labels_ = np.full(X.height, -1, dtype=np.int64)
        self.sub_profiles_: list[str] = []
        self.cluster_models_: dict[str, _ClusterModel] = {}
        stability: list[float] = []
        with threadpool_limits(limits=1, user_api="openmp"):
            for label in PROFILES[:2]:
                rows = _by_values(np.flatnonzero(self.profiles_ == label), values)
                if rows.size == 0:
                    continue
                model, clusters, names, stab = self._cluster(label, values, rows, rng)
                model.offset = len(self.sub_profiles_)
                self.cluster_models_[label] = model
                self.labels_[rows] = clusters + model.offset
                self.sub_profiles_ += names
                stability += stab
        self.stability_ = np.array(stability, dtype=np.float64)
        return self

    def _cluster(
        self, label: str, values: np.ndarray, rows: np.ndarray, rng: np.random.RandomState
    ) -> tuple[_ClusterModel, np.ndarray, list[str], list[float]]:
        """The fitted clustering of one label's leaders, their clusters, names and stability."""
        sub = values[rows]
        keep = ~np.all(np.isnan(sub), axis=0)
        if not keep.any():
            none = np.empty(0)
            model = _ClusterModel(keep, none, none, none, None, np.zeros(1, dtype=np.int64))
            return model, np.zeros(rows.size, dtype=np.int64), [label], [np.nan]
        names = [f for f, k in zip(self.features_, keep, strict=True) if k]
        observed = sub[:, keep]
        z = _logit(observed)
        median = np.nanmedian(z, axis=0)
        z = np.where(np.isnan(z), median, z)
        centre, scale = z.mean(axis=0), z.std(axis=0)
        scale = np.where(scale > 1e-9, scale, 1.0)
        s = (z - centre) / scale
        distinct = np.unique(np.round(s, 9), axis=0).shape[0]
        top = self.max_profiles if self.n_profiles == "auto" else int(self.n_profiles)
        top = max(1, min(top, distinct, rows.size // 3 or 1))
        seed = rng.randint(np.iinfo(np.int32).max)
        fit_on = s if rows.size > 1 else np.repeat(s, 2, axis=0)
        if self.n_profiles == "auto":
            fits = [_mixture(k, seed).fit(fit_on) for k in range(1, top + 1)]
            mixture = fits[int(np.argmin([m.bic(fit_on) for m in fits]))]
        else:
            mixture = _mixture(top, seed).fit(fit_on)
        resp = mixture.predict_proba(fit_on)[: rows.size]
        used = np.unique(resp.argmax(axis=1))
        model = _ClusterModel(keep, median, centre, scale, mixture, used)
        resp = resp[:, used]
        clusters = resp.argmax(axis=1)  # as model.assign(observed), from the fit's own resp
        nouns = _nouns(label, observed, names, resp, values[:, keep])
        stab = _stability(s, clusters, used.size, self.n_bootstrap, rng)
        return model, clusters, _names(label, nouns), stab

    def predict(self, X) -> np.ndarray:
        """Cluster (index into ``sub_profiles_``) of each leader of ``X``.

        Each leader is labelled from its own index (as ``predict_profile``), then
        put in the fitted cluster of its label most likely to hold its measures
        (imputed, logit-transformed and standardised as in ``fit``). Each row's
        cluster depends on that row alone, so ``predict`` of the fitted frame is
        ``labels_`` and ``predict`` of a subset is the subset of it. ``-1`` for an
        undetermined leader and for a label that had no leader in the fit.

        Raises
        ------
        ValueError
            When ``X`` lacks a measure the fit clustered on.

        Examples
        --------
        >>> from tribe_analysis.synth import simulate_tribe
        >>> from tribe_analysis.features import leader_measures
        >>> tribe = simulate_tribe(n_leaders=12, days=30, seed=4, mixed_share=0)
        >>> measures = leader_measures(tribe.events, tribe.leaders, ego=False)
        >>> profiler = LeaderProfiler(random_state=0).fit(measures)
        >>> bool((profiler.predict(measures[::-1]) == profiler.labels_[::-1]).all())
        True
        """
        check_is_fitted(self, "cluster_models_")
        X = self._check(X)
        missing = [f for f in self.features_ if f not in X.columns]
        if missing:
            raise ValueError(f"measures frame lacks {', '.join(missing)}, which the fit used")
        labels = self._decide(X)[0]
        values = X.select(pl.col(self.features_).cast(pl.Float64).fill_null(np.nan)).to_numpy()
        out = np.full(X.height, -1, dtype=np.int64)
        for label, model in self.cluster_models_.items():
            rows = np.flatnonzero(labels == label)
            if rows.size:
                out[rows] = model.assign(values[rows][:, model.keep]) + model.offset
        return out

    def predict_profile(self, X) -> np.ndarray:
        """Label of each leader of ``X``: its own, whatever else is in ``X``."""
        check_is_fitted(self, "profiles_")
        return self._decide(self._check(X))[0]

    def profile_proba(self, X) -> np.ndarray:
        """Probability of each leader's label (NaN when undetermined)."""
        check_is_fitted(self, "profiles_")
        return self._decide(self._check(X))[1]

    def explain(self, X, *, top: int = 3) -> list[list[str]]:
        """The observed parts that most support each leader's label, strongest first.

        For a participator the parts at or above the threshold, highest first;
        for a broadcaster the parts below it, lowest first; nothing for an
        undetermined leader. Parts that are null (unobservable, too little
        evidence) are never drivers.
        """
        check_is_fitted(self, "profiles_")
        X = self._check(X)
        labels = self._decide(X)[0]
        parts = [p for p in PARTS if p in X.columns]
        out: list[list[str]] = []
        for label, row in zip(labels, X.select(parts).iter_rows(named=True), strict=True):
            known = [(p, v) for p, v in row.items() if v is not None]
            if label == PROFILES[1]:
                chosen = sorted(
                    (kv for kv in known if kv[1] >= self.threshold), key=lambda kv: -kv[1]
                )
            elif label == PROFILES[0]:
                chosen = sorted(
                    (kv for kv in known if kv[1] < self.threshold), key=lambda kv: kv[1]
                )
            else:
                chosen = []
            out.append([p for p, _ in chosen[:top]])
        return out


class _ClusterModel:
    """What ``fit`` learnt about one label's clusters, enough to place a new leader.

    ``keep``: which of ``features_`` the label's clustering used; ``median``,
    ``centre``, ``scale``: imputation and standardisation of their logits;
    ``used``: the mixture components that held a fitted leader (cluster ``i`` is
    component ``used[i]``); ``offset``: the label's first index in ``sub_profiles_``.
    Without a mixture (no measure observed) every leader is the label's one cluster.
    """

    def __init__(
        self,
        keep: np.ndarray,
        median: np.ndarray,
        centre: np.ndarray,
        scale: np.ndarray,
        mixture: GaussianMixture | None,
        used: np.ndarray,
    ) -> None:
        self.keep, self.median, self.centre, self.scale = keep, median, centre, scale
        self.mixture, self.used, self.offset = mixture, used, 0

    def assign(self, observed: np.ndarray) -> np.ndarray:
        """Cluster (0-based within the label) of each row of kept measures."""
        if self.mixture is None:
            return np.zeros(observed.shape[0], dtype=np.int64)
        z = _logit(observed)
        z = np.where(np.isnan(z), self.median, z)
        resp = self.mixture.predict_proba((z - self.centre) / self.scale)[:, self.used]
        return resp.argmax(axis=1).astype(np.int64)


def _by_values(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``rows`` ordered by their measures (first measure first; NaN last), not by leader id.

    The mixture's start and the bootstrap draw rows by position: taken in the order
    of the leaders' ids, the clusters, their numbers and stability changed when the
    same accounts had other ids (a re-keyed export, another spelling of the same
    people). Rows with equal measures are interchangeable, so their order among
    themselves changes nothing.

    Examples
    --------
    >>> v = np.array([[0.5, 1.0], [0.2, np.nan], [0.5, 0.3], [np.nan, 0.1]])
    >>> _by_values(np.array([0, 1, 2, 3]), v).tolist()
    [1, 2, 0, 3]
    """
    return rows[np.lexsort(values[rows].T[::-1])]


def _logit(values: np.ndarray) -> np.ndarray:
    clipped = np.clip(values, _EPS, 1 - _EPS)
    return np.log(clipped / (1 - clipped))


def _mixture(k: int, seed: int) -> GaussianMixture:
    return GaussianMixture(
        n_components=k, covariance_type="diag", n_init=3, reg_covar=1e-3, random_state=seed
    )


def _nouns(
    label: str, observed: np.ndarray, names: Sequence[str], resp: np.ndarray, everyone: np.ndarray
) -> list[str]:
    """The noun of the observed measure on which each cluster stands out, one noun per cluster.

    Measures are standardised over every fitted leader with a value; a cluster's
    score is the mean over its members' *observed* values (imputed values never
    name a cluster). A cluster is named only after a measure on which it stands
    above the fitted leaders' mean (else it keeps the bare label), and
    participator clusters never after ``broadcast_share``. Two clusters never take
    one noun: the highest score names first, and a cluster whose best measure is
    taken is named after its next (two "responder" clusters read as one, and the
    console counted them as one).

    Examples
    --------
    Two clusters of one leader each, both answering most above the mean: the
    first, further above, is the responder, the second is named after seeing.

    >>> everyone = np.array([[0.8, 0.7], [0.7, 0.7], [0.3, 1.0], [0.3, 0.2]])
    >>> _nouns("participator", everyone[:2], ["answer_rate", "see_breadth"], np.eye(2), everyone)
    ['responder', 'watcher']
    """
    scores = _standing(label, observed, names, resp, everyone)
    out = [""] * resp.shape[1]
    taken: set[int] = set()
    # every (cluster, measure) it stands above the mean on, highest score first
    ranked = sorted(
        (-scores[c, j], c, j)
        for c in range(scores.shape[0])
        for j in range(scores.shape[1])
        if scores[c, j] > 0
    )
    for _, c, j in ranked:
        if not out[c] and j not in taken:
            out[c] = NAMING_MEASURES.get(names[j], names[j])
            taken.add(j)
    return out


def _names(label: str, nouns: Sequence[str]) -> list[str]:
    """``label · noun`` per cluster; clusters without a noun are the bare label, or numbered.

    Two clusters without a noun are told apart by their place among the label's
    clusters (``broadcaster · group 2``), so that no two clusters share a name: the
    map would draw them as one shape and the report could not tell them apart.

    Examples
    --------
    >>> _names("broadcaster", ["announcer", ""])
    ['broadcaster · announcer', 'broadcaster']
    >>> _names("broadcaster", ["", "announcer", ""])
    ['broadcaster · group 1', 'broadcaster · announcer', 'broadcaster · group 3']
    """
    numbered = sum(not noun for noun in nouns) > 1
    return [
        f"{label} · {noun}" if noun else f"{label} · group {i}" if numbered else label
        for i, noun in enumerate(nouns, start=1)
    ]


def _standing(
    label: str, observed: np.ndarray, names: Sequence[str], resp: np.ndarray, everyone: np.ndarray
) -> np.ndarray:
    """Clusters x measures: the mean standardised observed value of each cluster's members.

    NaN where no member has the measure, and for ``broadcast_share`` of participators.
    """
    everyone = np.sort(everyone, axis=0)  # sums in one order, whatever the leaders' order
    mean = np.nanmean(everyone, axis=0)
    std = np.nanstd(everyone, axis=0)
    z = (observed - mean) / np.where(std > 1e-12, std, 1.0)
    scores = np.full((resp.shape[1], len(names)), np.nan)
    for c in range(resp.shape[1]):
        members = resp.argmax(axis=1) == c
        held = members[:, None] & ~np.isnan(z)
        count = held.sum(axis=0)
        scores[c] = np.where(
            count > 0, np.where(held, z, 0.0).sum(axis=0) / np.maximum(count, 1), np.nan
        )
    if label == PROFILES[1] and "broadcast_share" in names:
        scores[:, list(names).index("broadcast_share")] = np.nan
    return scores


def _stability(
    s: np.ndarray, clusters: np.ndarray, k: int, n_bootstrap: int, rng: np.random.RandomState
) -> list[float]:
    """Hennig's cluster-wise Jaccard stability of the clusters of one label."""
    n = s.shape[0]
    if n_bootstrap <= 0 or n < 2:
        return [np.nan] * k
    if k == 1:
        return [1.0]
    totals = np.zeros(k)
    for _ in range(n_bootstrap):
        idx = rng.randint(0, n, size=n)
        members = np.unique(idx)
        k_b = min(k, np.unique(np.round(s[idx], 9), axis=0).shape[0])
        boot = _mixture(k_b, rng.randint(np.iinfo(np.int32).max)).fit(s[idx])
        boot_labels = boot.predict(s[members])
        original = clusters[members]
        for c in range(k):
            in_c = original == c
            best = 0.0
            for d in range(k_b):
                in_d = boot_labels == d
                union = np.count_nonzero(in_c | in_d)
                best = max(best, np.count_nonzero(in_c & in_d) / union if union else 0.0)
            totals[c] += best
    return (totals / n_bootstrap).tolist()


def profile_leaders(
    measures: pl.DataFrame,
    *,
    n_profiles: int | str = "auto",
    random_state: int = 0,
    n_bootstrap: int = 30,
) -> tuple[LeaderProfiler, pl.DataFrame]:
    """Fit a :class:`LeaderProfiler` and return it with the per-leader profile table.

    Parameters
    ----------
    measures : polars.DataFrame
        One row per leader, from :func:`tribe_analysis.features.leader_measures`.
    n_profiles, random_state, n_bootstrap
        Passed to :class:`LeaderProfiler`.

    Returns
    -------
    profiler : LeaderProfiler
    table : polars.DataFrame
        ``leader_id``, ``profile``, ``reason``, ``probability`` (of the label;
        null when undetermined), ``participation_index``, ``index_low``,
        ``index_high``, ``parts_observed``, ``p_participator``, ``sub_profile``,
        ``cluster`` (null when undetermined), ``stability`` (of the cluster),
        ``ways`` (the ways of participating in words), ``drivers`` (the parts
        that most support the label, ``, ``-joined), then every other column of
        ``measures``; sorted by ``leader_id``.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> from tribe_analysis.features import leader_measures
    >>> tribe = simulate_tribe(n_leaders=8, days=30, seed=5)
    >>> _, table = profile_leaders(leader_measures(tribe.events, tribe.leaders, ego=False))
    >>> table.columns[:4]
    ['leader_id', 'profile', 'reason', 'probability']
    """
    measures = measures.sort("leader_id")
    profiler = LeaderProfiler(n_profiles, random_state=random_state, n_bootstrap=n_bootstrap).fit(
        measures
    )
    cluster = profiler.labels_
    decided = cluster >= 0
    names = np.array(profiler.sub_profiles_ + [None], dtype=object)
    stab = np.append(profiler.stability_, np.nan)
    rows = measures.to_dicts()
    posts = (
        measures.get_column("posts").to_list()
        if "posts" in measures.columns
        else [None] * len(rows)
    )
    spreads = style_spread(
        *part_masks(measures),
        scale=profiler.spread_scale,
        few_parts_spread=profiler.few_parts_spread,
    )
    reasons = [
        _reason(
            label,
            row.get("participation_index"),
            row.get("index_low"),
            row.get("index_high"),
            int(row.get("parts_observed") or 0),
            n_posts,
            profiler.threshold,
            row.get("authored"),
            None if np.isnan(p) else float(p),
            float(tau),
            profiler.confidence,
        )
        for label, row, n_posts, p, tau in zip(
            profiler.profiles_, rows, posts, profiler.p_participator_, spreads, strict=True
        )
    ]
    table = pl.DataFrame(
        {
            "leader_id": measures.get_column("leader_id"),
            "profile": profiler.profiles_.tolist(),
            "reason": reasons,
            "probability": pl.Series(profiler.probability_).fill_nan(None),
            "participation_index": measures.get_column("participation_index"),
            "index_low": measures.get_column("index_low"),
            "index_high": measures.get_column("index_high"),
            "parts_observed": measures.get_column("parts_observed"),
            "p_participator": pl.Series(profiler.p_participator_).fill_nan(None),
            "sub_profile": [
                names[c] if d else PROFILES[2] for c, d in zip(cluster, decided, strict=True)
            ],
            "cluster": [int(c) if d else None for c, d in zip(cluster, decided, strict=True)],
            "stability": pl.Series(np.where(decided, stab[cluster], np.nan)).fill_nan(None),
            "ways": [describe_ways(row) for row in rows],
            "drivers": [", ".join(d) for d in profiler.explain(measures)],
        },
        schema_overrides={
            "profile": pl.String,
            "sub_profile": pl.String,
            "probability": pl.Float64,
            "p_participator": pl.Float64,
            "cluster": pl.Int64,
            "stability": pl.Float64,
        },
    )
    rest = [c for c in measures.columns if c not in table.columns]
    return profiler, pl.concat([table, measures.select(rest)], how="horizontal")


def compare_periods(
    before: pl.DataFrame,
    after: pl.DataFrame,
    *,
    n_profiles: int | str = "auto",
    random_state: int = 0,
) -> pl.DataFrame:
    """Each leader's label and sub-profile in two periods, with the clusters of the first.

    A :class:`LeaderProfiler` is fitted on ``before``; each leader of ``after`` gets
    its own label there and is placed in the first period's clusters
    (:meth:`LeaderProfiler.predict`), so that a sub-profile means the same in both
    columns: a coach can see who moved after a workshop.

    Parameters
    ----------
    before, after : polars.DataFrame
        :func:`tribe_analysis.features.leader_measures` of two periods (``until=``
        and ``since=`` a date), one row per leader.
    n_profiles, random_state
        Passed to :class:`LeaderProfiler`.

    Returns
    -------
    polars.DataFrame
        ``leader_id``, ``profile_before``, ``sub_profile_before``, ``profile_after``,
        ``sub_profile_after`` (``undetermined``; the bare label for a label the first
        period had no cluster of), ``moved`` (the sub-profile differs; null for a
        leader of one period only); sorted by ``leader_id``.

    Raises
    ------
    ValueError
        When a frame has more than one row for a leader (windowed measures).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from tribe_analysis.synth import simulate_tribe
    >>> from tribe_analysis.features import leader_measures
    >>> tribe = simulate_tribe(n_leaders=8, days=40, seed=5)
    >>> split = datetime(2024, 1, 21, tzinfo=UTC)
    >>> before = leader_measures(tribe.events, tribe.leaders, until=split, ego=False)
    >>> after = leader_measures(tribe.events, tribe.leaders, since=split, ego=False)
    >>> compare_periods(before, after).columns
    ['leader_id', 'profile_before', 'sub_profile_before', 'profile_after', 'sub_profile_after', 'moved']
    """
    for name, frame in (("before", before), ("after", after)):
        if frame.get_column("leader_id").is_duplicated().any():
            raise ValueError(
                f"{name} has more than one row for a leader (windowed measures?): "
                "measure each period whole, with since= and until="
            )
    profiler = LeaderProfiler(n_profiles, random_state=random_state, n_bootstrap=0).fit(before)
    names = profiler.sub_profiles_

    def named(labels: np.ndarray, clusters: np.ndarray) -> list[str]:
        return [names[c] if c >= 0 else str(lab) for lab, c in zip(labels, clusters, strict=True)]

    later = profiler.predict_profile(after)
    first = pl.DataFrame(
        {
            "leader_id": before.get_column("leader_id"),
            "profile_before": profiler.profiles_.tolist(),
            "sub_profile_before": named(profiler.profiles_, profiler.labels_),
        }
    )
    second = pl.DataFrame(
        {
            "leader_id": after.get_column("leader_id"),
            "profile_after": later.tolist(),
            "sub_profile_after": named(later, profiler.predict(after)),
        }
    )
    return (
        first.join(second, on="leader_id", how="full", coalesce=True)
        .with_columns((pl.col("sub_profile_before") != pl.col("sub_profile_after")).alias("moved"))
        .sort("leader_id")
    )
