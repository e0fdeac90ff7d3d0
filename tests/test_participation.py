"""The participation module's intervals against their textbook definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tribe_analysis.participation import jeffreys_interval


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(1, 10**6)), min_size=1, max_size=20
    ),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_jeffreys_interval_is_the_beta_posteriors_quantiles(counts, level):
    """Brown, Cai & DasGupta's interval: Beta(x + 1/2, n - x + 1/2) quantiles, 0 and 1 at the ends."""
    num = np.array([min(x, n) for x, n in counts], dtype=np.float64)
    den = np.array([n for _, n in counts], dtype=np.float64)
    lo, hi = jeffreys_interval(num, den, level)
    a, b, tail = num + 0.5, den - num + 0.5, (1 - level) / 2
    assert np.array_equal(lo, np.where(num == 0, 0.0, stats.beta.ppf(tail, a, b)))
    assert np.array_equal(hi, np.where(num == den, 1.0, stats.beta.ppf(1 - tail, a, b)))


def test_jeffreys_interval_is_unknown_without_a_denominator():
    lo, hi = jeffreys_interval([0, 3, np.nan], [0, 0, 5])
    assert np.isnan(lo).all() and np.isnan(hi).all()
