"""Leader profiles: broadcaster / participator clustering with uncertainty.

:class:`LeaderProfiler` is a scikit-learn estimator. It clusters leaders on their
rates and shares (never on raw volume), then names each cluster by an absolute,
documented criterion on its participation index (``docs/methods.md``, section
*Profiles*), so a label means the same on every dataset: a tribe in which every
leader broadcasts gets only broadcasters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from tribe_analysis.features import PARTICIPATION_PARTS

__all__ = [
    "FEATURES",
    "PARTICIPATOR_THRESHOLD",
    "PROFILES",
    "LeaderProfiler",
    "profile_leaders",
]

PROFILES: tuple[str, ...] = ("broadcaster", "participator")

SHARE_FEATURES: tuple[str, ...] = (
    "see_coverage",
    "reply_rate",
    "dialogic_loop_share",
    "broadcast_share",
    "participation_index",
)
"""Shares in [0, 1]: enter the clustering as logit(clip(x, 0.2, 0.8)).

These are rates *per opportunity* (tribe posts seen, comments answered,
commented posts turned into a dialogue, own output that mentions no one) and the
participation index itself, so that a cluster cannot hold leaders far apart on
the axis that names it. Rates
normalised by the leader's own output or tribe (``comment_share``,
``promotion_share``, ``see_breadth``, ``alter_reciprocity``) also move with the
ratio of audience size to activity, so they describe a profile (sub-profile
names, explanations) but do not form it.
"""

COUNT_FEATURES: tuple[str, ...] = ()
"""Per-post medians that would enter as log1p(x) (none by default)."""

FEATURES: tuple[str, ...] = SHARE_FEATURES + COUNT_FEATURES
"""Measure columns the profiler clusters on, in this order for array input."""

NAMING_MEASURES: dict[str, str] = {
    "see_coverage": "watcher",
    "comment_share": "commenter",
    "reply_rate": "responder",
    "dialogic_loop_share": "responder",
    "promotion_share": "promoter",
    "alter_reciprocity": "reciprocator",
    "participants": "conversation starter",
    "broadcast_share": "announcer",
}
"""Measure -> sub-profile noun, for the measure that most sets a cluster apart."""

PARTICIPATOR_THRESHOLD = 0.45
"""A cluster is ``participator`` when its participation index is at least this.

Calibrated on the simulator (``tribe_analysis.synth``, 40 leaders, seeds 0-13):
pure broadcasters score 0.10-0.26, pure participators 0.54-0.68, broadcasters
leaning 20-45% to participation 0.34-0.55 and participators leaning to
broadcasting 0.46-0.59; 0.45 sits between the two mixed groups
(``tests/test_profiles.py`` checks that pure styles fall on their side). The
index is a mean of shares, so the threshold reads: a participator does, on
average, at least 45% of what it could do to engage (docs/methods.md,
*Profiles*).
"""

_EPS = 0.2


class LeaderProfiler(ClusterMixin, BaseEstimator):
    """Cluster leaders into broadcaster / participator profiles.

    Leaders are clustered with a diagonal Gaussian mixture on transformed,
    standardised rates (logit of clipped shares, log1p of per-post medians);
    a null measure is imputed with the median of the fitted leaders, and a
    measure null for every leader (a signal the platform does not expose) is
    left out. Each cluster is named ``participator`` when its (posterior-
    weighted) mean participation index reaches ``threshold``, else
    ``broadcaster``.

    Parameters
    ----------
    n_profiles : int or "auto", default 2
        Number of clusters; ``"auto"`` picks 1..``max_profiles`` by BIC and
        names sub-profiles (e.g. ``"participator · responder"``).
    threshold : float, default PARTICIPATOR_THRESHOLD
        Participation index from which a cluster is called participator.
    max_profiles : int, default 6
        Largest number of clusters tried by ``"auto"``.
    n_bootstrap : int, default 30
        Bootstrap resamples for the cluster stability (0 to skip).
    n_init : int, default 5
        Initialisations of each Gaussian mixture.
    random_state : int, RandomState or None
        Seed for the mixtures and the bootstrap.

    Attributes
    ----------
    n_profiles_ : int
        Number of clusters fitted.
    labels_ : ndarray of shape (n_leaders,)
        Cluster of each fitted leader.
    profile_names_ : ndarray of shape (n_profiles_,)
        ``broadcaster`` or ``participator`` per cluster.
    sub_profiles_ : ndarray of shape (n_profiles_,)
        Primary name and most distinctive feature, e.g. ``"participator · promoter"``.
    cluster_participation_ : ndarray of shape (n_profiles_,)
        Posterior-weighted mean participation index per cluster.
    stability_ : ndarray of shape (n_profiles_,)
        Mean bootstrap Jaccard similarity per cluster (Hennig 2007: under 0.6
        unstable, over 0.75 stable); NaN when ``n_bootstrap=0``.
    label_agreement_ : ndarray of shape (n_leaders,)
        Share of bootstrap resamples (clustered and named afresh) that give each
        fitted leader its primary profile; NaN when ``n_bootstrap=0``.
    features_ : list of str
        Features used (after dropping all-null ones).
    mixture_ : sklearn.mixture.GaussianMixture
        The fitted mixture.

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> from tribe_analysis.features import leader_measures
    >>> tribe = simulate_tribe(n_leaders=12, days=30, seed=4, mixed_share=0)
    >>> measures = leader_measures(tribe.events, tribe.leaders, ego=False)
    >>> profiler = LeaderProfiler(random_state=0).fit(measures)
    >>> predicted = profiler.predict_profile(measures)
    >>> (predicted == tribe.truth["style"].to_numpy()).mean()
    np.float64(1.0)
    """

    def __init__(
        self,
        n_profiles: int | str = 2,
        *,
        threshold: float = PARTICIPATOR_THRESHOLD,
        max_profiles: int = 6,
        n_bootstrap: int = 30,
        n_init: int = 5,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_profiles = n_profiles
        self.threshold = threshold
        self.max_profiles = max_profiles
        self.n_bootstrap = n_bootstrap
        self.n_init = n_init
        self.random_state = random_state

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # ------------------------------------------------------------------ input
    def _input(self, X, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """Return (raw feature matrix with NaN for nulls, participation index)."""
        if isinstance(X, pl.LazyFrame):
            X = X.collect()
        if isinstance(X, pl.DataFrame):
            names = [f for f in FEATURES if f in X.columns]
            if not names:
                raise ValueError(
                    f"measures frame has none of the profile features {', '.join(FEATURES)}"
                )
            if reset:
                self.feature_names_ = names
            else:
                missing = [f for f in self.feature_names_ if f not in X.columns]
                if missing:
                    raise ValueError(f"measures frame lacks fitted features {', '.join(missing)}")
                names = self.feature_names_
            arr = X.select(pl.col(names).cast(pl.Float64).fill_null(np.nan)).to_numpy()
            arr = validate_data(
                self, arr, reset=reset, ensure_all_finite="allow-nan", dtype=np.float64
            )
            if "participation_index" in X.columns:
                pi = (
                    X.get_column("participation_index")
                    .cast(pl.Float64)
                    .fill_null(np.nan)
                    .to_numpy()
                )
            else:
                pi = _participation(arr, names)
            if reset:
                naming = [m for m in NAMING_MEASURES if m in X.columns]
                values = X.select(pl.col(naming).cast(pl.Float64).fill_null(np.nan)).to_numpy()
                self._naming = (naming, values)
            return arr, pi
        arr = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype=np.float64)
        if reset:
            self.feature_names_ = (
                list(FEATURES)
                if arr.shape[1] == len(FEATURES)
                else [f"x{i}" for i in range(arr.shape[1])]
            )
            self._naming = (self.feature_names_, arr)
        return arr, _participation(arr, self.feature_names_)

    def _transform(self, arr: np.ndarray) -> np.ndarray:
        out = np.array(arr, dtype=np.float64, copy=True)
        for j, name in enumerate(self.feature_names_):
            col = out[:, j]
            if name in SHARE_FEATURES:
                clipped = np.clip(col, _EPS, 1 - _EPS)
                out[:, j] = np.log(clipped / (1 - clipped))
            elif name in COUNT_FEATURES:
                out[:, j] = np.log1p(np.clip(col, 0, None))
        return out

    def _standardise(self, arr: np.ndarray) -> np.ndarray:
        z = self._transform(arr)[:, self.used_]
        z = np.where(np.isnan(z), self.impute_, z)
        return (z - self.mean_) / self.scale_

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit the profiles on a measures frame (or an array of :data:`FEATURES`).

        Parameters
        ----------
        X : polars.DataFrame or array-like of shape (n_leaders, n_features)
            Output of :func:`tribe_analysis.features.leader_measures`, or an
            array whose columns are :data:`FEATURES` in order.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if not (
            self.n_profiles == "auto"
            or (isinstance(self.n_profiles, int | np.integer) and self.n_profiles >= 1)
        ):
            raise ValueError(
                f"n_profiles must be a positive integer or 'auto', got {self.n_profiles!r}"
            )
        arr, pi = self._input(X, reset=True)
        rng = check_random_state(self.random_state)
        n = arr.shape[0]
        z = self._transform(arr)
        used = ~np.all(np.isnan(z), axis=0)
        if not used.any():
            used = np.ones(z.shape[1], dtype=bool)
            z = np.zeros_like(z)
        self.used_ = used
        self.features_ = [
            name for name, keep in zip(self.feature_names_, used, strict=True) if keep
        ]
        z = z[:, used]
        self.impute_ = np.nanmedian(z, axis=0)  # every used column has a value
        z = np.where(np.isnan(z), self.impute_, z)
        self.mean_ = z.mean(axis=0)
        scale = z.std(axis=0)
        self.scale_ = np.where(scale > 1e-9, scale, 1.0)
        s = (z - self.mean_) / self.scale_
        seed = rng.randint(np.iinfo(np.int32).max)
        fit_on = s if n > 1 else np.repeat(s, 2, axis=0)  # a mixture needs two rows
        distinct = max(1, np.unique(np.round(s, 9), axis=0).shape[0])
        if self.n_profiles == "auto":
            candidates = range(1, max(1, min(self.max_profiles, distinct)) + 1)
            fits = [self._mixture(k, seed).fit(fit_on) for k in candidates]
            self.bic_ = np.array([m.bic(fit_on) for m in fits])
            self.mixture_ = fits[int(np.argmin(self.bic_))]
        else:
            k = min(int(self.n_profiles), distinct)
            init = _criterion_means(s, pi, self.threshold, k)
            self.mixture_ = self._mixture(k, seed, init).fit(fit_on)
        self.n_profiles_ = self.mixture_.n_components
        resp = self._proba(s)
        self.labels_ = resp.argmax(axis=1)
        self.cluster_participation_ = _weighted_participation(resp, pi)
        self.profile_names_ = np.where(
            self.cluster_participation_ >= self.threshold, PROFILES[1], PROFILES[0]
        ).astype(object)
        self.sub_profiles_ = self._sub_profiles(resp, *self._naming)
        del self._naming
        self.stability_, self.label_agreement_ = self._stability(s, pi, rng)
        return self

    def _mixture(self, k: int, seed: int, means_init: np.ndarray | None = None) -> GaussianMixture:
        return GaussianMixture(
            n_components=k,
            covariance_type="diag",
            n_init=1 if means_init is not None else self.n_init,
            means_init=means_init,
            reg_covar=1e-3,
            random_state=seed,
        )

    def _sub_profiles(
        self, resp: np.ndarray, names: Sequence[str], values: np.ndarray
    ) -> np.ndarray:
        """``primary · noun``: the noun of the measure that most sets each cluster apart.

        Each measure is standardised over the leaders; a cluster's score on it is
        the posterior-weighted mean. Participator clusters are not named after
        ``broadcast_share``.
        """
        keep = ~np.all(np.isnan(values), axis=0)  # measures the platform does not expose
        names = [name for name, k in zip(names, keep, strict=True) if k]
        values = values[:, keep]
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0)
        z = (values - mean) / np.where(std > 1e-12, std, 1.0)
        z = np.where(np.isnan(z), 0.0, z)
        weight = resp / np.maximum(resp.sum(axis=0, keepdims=True), 1e-12)
        score = weight.T @ z
        out = []
        for c in range(self.n_profiles_):
            primary = self.profile_names_[c]
            allowed = [
                j
                for j, name in enumerate(names)
                if not (primary == "participator" and name == "broadcast_share")
            ]
            if not allowed:
                out.append(primary)
                continue
            best = max(allowed, key=lambda j: (score[c, j], -j))
            out.append(f"{primary} · {NAMING_MEASURES.get(names[best], names[best])}")
        return np.array(out, dtype=object)

    def _stability(
        self, s: np.ndarray, pi: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hennig's cluster-wise Jaccard stability, and each leader's label agreement.

        In each resample the clusters are named by the same criterion; a leader's
        agreement is the share of resamples giving it its fitted primary profile.
        """
        k, n = self.n_profiles_, s.shape[0]
        if self.n_bootstrap <= 0 or n < 2:
            return np.full(k, np.nan), np.full(n, np.nan)
        totals = np.zeros(k)
        counts = np.zeros(k)
        agree = np.zeros(n)
        primary = self.profile_names_[self.labels_]
        for _ in range(self.n_bootstrap):
            idx = rng.randint(0, n, size=n)
            seed = rng.randint(np.iinfo(np.int32).max)
            members = np.unique(idx)
            k_b = min(k, np.unique(np.round(s[idx], 9), axis=0).shape[0])
            boot = GaussianMixture(
                n_components=k_b,
                covariance_type="diag",
                n_init=1,
                reg_covar=1e-3,
                random_state=seed,
            ).fit(s[idx])
            resp = boot.predict_proba(s)
            names = np.where(
                _weighted_participation(resp[idx], pi[idx]) >= self.threshold,
                PROFILES[1],
                PROFILES[0],
            )
            agree += names[resp.argmax(axis=1)] == primary
            boot_labels = resp[members].argmax(axis=1)
            original = self.labels_[members]
            for c in range(k):
                in_c = original == c
                if not in_c.any():
                    continue
                best = 0.0
                for d in range(k_b):
                    in_d = boot_labels == d
                    union = np.count_nonzero(in_c | in_d)
                    best = max(best, np.count_nonzero(in_c & in_d) / union if union else 0.0)
                totals[c] += best
                counts[c] += 1
        stability = np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
        return stability, agree / self.n_bootstrap

    # ------------------------------------------------------------------ predict
    def _proba(self, s: np.ndarray) -> np.ndarray:
        if s.shape[0] == 1:  # GaussianMixture refuses a single row
            return self.mixture_.predict_proba(np.repeat(s, 2, axis=0))[:1]
        return self.mixture_.predict_proba(s)

    def predict(self, X) -> np.ndarray:
        """Cluster index of each leader."""
        return self.predict_proba(X).argmax(axis=1)

    def predict_proba(self, X) -> np.ndarray:
        """Membership probability of each leader in each cluster, shape (n_leaders, n_profiles_)."""
        check_is_fitted(self, "mixture_")
        arr, _ = self._input(X, reset=False)
        return self._proba(self._standardise(arr))

    def predict_profile(self, X) -> np.ndarray:
        """Primary profile name (``broadcaster``/``participator``) of each leader."""
        return self.profile_names_[self.predict(X)]

    def profile_proba(self, X) -> np.ndarray:
        """Probability of each leader's primary profile (summed over its clusters)."""
        proba = self.predict_proba(X)
        names = self.profile_names_[proba.argmax(axis=1)]
        same = self.profile_names_[None, :] == names[:, None]
        return (proba * same).sum(axis=1)

    def explain(self, X, *, top: int = 3) -> list[list[str]]:
        """The features that most pushed each leader into its profile.

        For a diagonal mixture the log-likelihood ratio between the leader's
        cluster and the nearest cluster of the other profile (or, when all
        clusters share one profile, the next most likely cluster) is a sum over
        features; the ``top`` features with the largest positive terms are
        returned, strongest first.
        """
        check_is_fitted(self, "mixture_")
        arr, _ = self._input(X, reset=False)
        s = self._standardise(arr)
        proba = self._proba(s)
        own = proba.argmax(axis=1)
        means, var = self.mixture_.means_, self.mixture_.covariances_
        out: list[list[str]] = []
        for i, c in enumerate(own):
            rivals = [
                d
                for d in range(self.n_profiles_)
                if self.profile_names_[d] != self.profile_names_[c]
            ]
            if not rivals:
                rivals = [d for d in range(self.n_profiles_) if d != c]
            if not rivals:
                out.append([])
                continue
            d = max(rivals, key=lambda r: proba[i, r])
            terms = _log_normal(s[i], means[c], var[c]) - _log_normal(s[i], means[d], var[d])
            order = np.argsort(-terms, kind="stable")
            out.append([self.features_[j] for j in order[:top] if terms[j] > 0])
        return out


def _criterion_means(s: np.ndarray, pi: np.ndarray, threshold: float, k: int) -> np.ndarray | None:
    """Start two clusters at the leaders below / at or above the threshold (None otherwise).

    EM then moves the groups where the data put them; starting from the
    criterion's split keeps the two-profile solution from settling on a split
    between the most extreme broadcasters and everyone else.
    """
    if k != 2:
        return None
    low = pi < threshold
    high = pi >= threshold
    if not low.any() or not high.any():
        return None
    return np.vstack([s[low].mean(axis=0), s[high].mean(axis=0)])


def _log_normal(x: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)


def _participation(arr: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Participation index from feature columns (same formula as features.leader_measures)."""
    if "participation_index" in names:
        return np.asarray(arr[:, list(names).index("participation_index")], dtype=np.float64)
    cols = []
    for part in PARTICIPATION_PARTS:
        if part in names:
            col = arr[:, list(names).index(part)]
            cols.append(1 - col if part == "broadcast_share" else col)
    if not cols:  # generic arrays: mean of the clipped columns
        cols = [np.clip(arr[:, j], 0, 1) for j in range(arr.shape[1])]
    stacked = np.column_stack(cols)
    with np.errstate(all="ignore"):
        valid = ~np.isnan(stacked)
        total = np.where(valid, stacked, 0).sum(axis=1)
        count = valid.sum(axis=1)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _weighted_participation(resp: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Posterior-weighted mean participation index per cluster (NaN index -> weight 0).

    A cluster with no measurable index gets 0: no participation was observed.
    """
    valid = ~np.isnan(pi)
    w = resp * valid[:, None]
    num = (w * np.where(valid, pi, 0)[:, None]).sum(axis=0)
    den = w.sum(axis=0)
    return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def profile_leaders(
    measures: pl.DataFrame,
    *,
    n_profiles: int | str = 2,
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
        ``leader_id``, ``profile``, ``probability``, ``participation_index``,
        ``sub_profile``, ``cluster``, ``stability``, ``label_agreement``, ``drivers`` (the features
        that most pushed the leader to its profile, ``|``-joined), then every
        column of ``measures``; sorted by ``leader_id``. Floats shown are not
        rounded here (see :func:`tribe_analysis.cli` for the written form).

    Examples
    --------
    >>> from tribe_analysis.synth import simulate_tribe
    >>> from tribe_analysis.features import leader_measures
    >>> tribe = simulate_tribe(n_leaders=8, days=30, seed=5)
    >>> _, table = profile_leaders(leader_measures(tribe.events, tribe.leaders, ego=False))
    >>> table.columns[:5]
    ['leader_id', 'profile', 'probability', 'participation_index', 'sub_profile']
    """
    measures = measures.sort("leader_id")
    profiler = LeaderProfiler(n_profiles, random_state=random_state, n_bootstrap=n_bootstrap).fit(
        measures
    )
    cluster = profiler.predict(measures)
    table = pl.DataFrame(
        {
            "leader_id": measures.get_column("leader_id"),
            "profile": profiler.profile_names_[cluster].tolist(),
            "probability": profiler.profile_proba(measures),
            "participation_index": measures.get_column("participation_index"),
            "sub_profile": profiler.sub_profiles_[cluster].tolist(),
            "cluster": cluster.astype(np.int64),
            "stability": profiler.stability_[cluster],
            "label_agreement": profiler.label_agreement_,
            "drivers": ["|".join(d) for d in profiler.explain(measures)],
        },
        schema_overrides={"profile": pl.String, "sub_profile": pl.String},
    )
    rest = [c for c in measures.columns if c not in table.columns]
    return profiler, pl.concat([table, measures.select(rest)], how="horizontal")
