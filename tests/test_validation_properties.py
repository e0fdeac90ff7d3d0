"""Property tests of the validation tables against plain-Python oracles.

:func:`reliability_table` promises equal-width bins of [0, 1] (1 in the last bin),
empty bins left out; :func:`style_gap` promises the lowest participator's index minus
the highest broadcaster's and the share of ordered (participator, broadcaster) pairs,
ties counting half. Both are recomputed here leader by leader and pair by pair.
"""

from __future__ import annotations

import math
from fractions import Fraction

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tribe_analysis.validation import reliability_table, style_gap

STYLE = st.sampled_from(["participator", "broadcaster", "other"])
GRID = st.integers(0, 100).map(lambda k: k / 100)  # probabilities on bin edges
PROB = st.none() | st.just(math.nan) | GRID | st.floats(0.0, 1.0)


def _bin(p: float, bins: int) -> int:
    """The bin whose edges k / bins (as Python divides) hold ``p``, exactly."""
    if p >= 1.0:
        return bins - 1
    k = math.floor(Fraction(p) * bins)
    while p < k / bins:
        k -= 1
    while k + 1 < bins and p >= (k + 1) / bins:
        k += 1
    return k


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(PROB, STYLE), max_size=12), bins=st.integers(1, 100))
@example(rows=[(0.57, "participator"), (0.3, "broadcaster"), (0.7, "participator")], bins=100)
@example(rows=[(0.6, "participator"), (0.3, "broadcaster")], bins=10)
def test_reliability_bins_hold_their_leaders(rows: list, bins: int) -> None:
    frame = pl.DataFrame(
        {"p_participator": [p for p, _ in rows], "style": [s for _, s in rows]},
        schema={"p_participator": pl.Float64, "style": pl.String},
    )
    table = reliability_table(frame, bins)
    expected: dict[int, list[tuple[float, str]]] = {}
    for p, style in rows:
        if p is not None and not math.isnan(p):
            expected.setdefault(_bin(p, bins), []).append((p, style))
    got = table.rows(named=True)
    assert [(r["bin_low"], r["bin_high"]) for r in got] == [
        (k / bins, (k + 1) / bins) for k in sorted(expected)
    ]
    for row, k in zip(got, sorted(expected), strict=True):
        members = expected[k]
        assert row["n"] == len(members)
        assert all(row["bin_low"] <= p < row["bin_high"] or p == 1.0 for p, _ in members)
        assert math.isclose(row["stated"], sum(p for p, _ in members) / len(members))
        share = sum(s == "participator" for _, s in members) / len(members)
        assert math.isclose(row["observed"], share)


STYLES = ("participator", "broadcaster")


def _indices(rows: list, seed: int, style: str) -> list[float]:
    """The indices of the leaders of ``style`` in run ``seed`` that have one."""
    return [
        x for s, t, x in rows if (s, t) == (seed, style) and x is not None and not math.isnan(x)
    ]


INDEX = st.none() | st.just(math.nan) | GRID | st.floats(0.0, 1.0)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 2), STYLE, INDEX), max_size=12))
def test_style_gap_is_the_pairwise_count(rows: list) -> None:
    frame = pl.DataFrame(
        {
            "seed": [r[0] for r in rows],
            "style": [r[1] for r in rows],
            "participation_index": [r[2] for r in rows],
        },
        schema={"seed": pl.Int64, "style": pl.String, "participation_index": pl.Float64},
    )
    table = style_gap(frame, by=["seed"])
    seen = {s for s, style, x in rows if style != "other" and x is not None and not math.isnan(x)}
    assert table["seed"].to_list() == sorted(seen)
    for row in table.iter_rows(named=True):
        part, broad = (_indices(rows, row["seed"], style) for style in STYLES)
        assert (row["participators"], row["broadcasters"]) == (len(part), len(broad))
        if part and broad:
            pairs = sum((p > b) + 0.5 * (p == b) for p in part for b in broad)
            assert math.isclose(row["ordered_share"], pairs / (len(part) * len(broad)))
            assert math.isclose(row["gap"], min(part) - max(broad), abs_tol=1e-12)
        else:
            assert row["ordered_share"] is None and row["gap"] is None
