"""The leader labels against planted styles (regression guards for ``docs/validation_synthetic.md``).

The bounds come from ``benchmarks/validation.py`` and the measurements behind it
(16 seeds per design at the default sizes, full platform): each test's figure is
the one of its fixed seeds, and each bound is the worst value seen over sliding
windows of as many seeds, plus a margin stated next to it. A change of the
threshold from 0.35 to 0.30 or 0.40, or of the spreads to half or twice theirs,
makes at least one of these tests fail (``test_guards_have_teeth``); the spread of
4-5 parts for 3-part indices short of a part fails
``test_labels_on_three_parts_keep_their_promise``, and the wide 3-part spread for every
3-part index fails ``test_platforms_that_show_three_parts``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tribe_analysis import features as ft
from tribe_analysis.profiles import (
    CONFIDENCE,
    FEW_PARTS_SPREAD,
    PART_COVARIANCE,
    PROFILES,
    profile_leaders,
    style_spread,
)
from tribe_analysis.synth import simulate_tribe
from tribe_analysis.synth_forum import simulate_forum
from tribe_analysis.validation import (
    decision_summary,
    expected_calibration_error,
    part_covariance,
    planted_leaders,
    relabel,
    reliability_table,
    style_gap,
)

SEEDS = (0, 1, 2)
"""Seeds of the mixed tribes (half of each style, 30–40% mixed leaders)."""


@pytest.fixture(scope="module")
def planted() -> pl.DataFrame:
    """Default-size mixed tribes of the three designs, full platform (about 4 s)."""
    return pl.concat(
        [
            planted_leaders("synth", SEEDS),
            planted_leaders("forum", SEEDS),
            planted_leaders("microblog", SEEDS),
        ]
    )


def _design(frame: pl.DataFrame, design: str) -> pl.DataFrame:
    return frame.filter(pl.col("design") == design)


def test_planted_frame_is_one_row_per_leader(planted):
    counts = planted.group_by("design").len().sort("design").rows()
    assert counts == [("forum", 390), ("microblog", 390), ("synth", 120)]
    assert planted.select("design", "seed", "leader_id").is_duplicated().sum() == 0
    assert set(planted.get_column("style").unique()) == {"broadcaster", "participator"}
    assert planted.filter(pl.col("mix") > 0).height > 100  # mixed leaders are in
    assert planted.get_column("p_participator").null_count() < 0.03 * planted.height


# (a) calibration. Measured here: forum 0.052, microblog 0.046, both pooled 0.037;
# worst 3-seed window of seeds 0-15: 0.079, 0.065, 0.062. Bounds = worst + 0.010-0.016.
# (The synth design is left out: its mid-range probabilities all belong to mixed
# broadcasters; see the docs.)
ECE_BOUND = {"forum": 0.095, "microblog": 0.075}
POOLED_ECE_BOUND = 0.075

# (b) accuracy among decided labels. Measured here: synth 1.0, forum 1.0, microblog
# 0.991. Worst 3-seed windows: 1.0, 0.990, 0.982; over all 16 seeds 1.0, 0.995,
# 0.990. Bounds = worst - 0.02 to 0.03.
ACCURACY_BOUND = {"synth": 0.97, "forum": 0.97, "microblog": 0.95}


def _guards_hold(frame: pl.DataFrame) -> bool:
    """Every ECE and accuracy bound of this module holds on ``frame``."""
    fm = frame.filter(pl.col("design") != "synth")
    ok = expected_calibration_error(fm) < POOLED_ECE_BOUND
    for design, bound in ECE_BOUND.items():
        ok &= expected_calibration_error(_design(frame, design)) < bound
    for design, bound in ACCURACY_BOUND.items():
        ok &= decision_summary(_design(frame, design))["accuracy"] >= bound
    return bool(ok)


@pytest.mark.parametrize("design", sorted(ECE_BOUND))
def test_stated_probability_is_calibrated(planted, design):
    frame = _design(planted, design)
    assert expected_calibration_error(frame) < ECE_BOUND[design] <= 0.15
    table = reliability_table(frame)
    low, high = table.row(0, named=True), table.row(-1, named=True)
    # The outer bins hold most leaders; in 3-seed windows their observed share of
    # participators stays <= 0.025 and >= 0.981.
    assert low["bin_high"] == 0.1 and low["observed"] <= 0.05
    assert high["bin_low"] == 0.9 and high["observed"] >= 0.93


def test_pooled_forum_designs_are_calibrated(planted):
    frame = planted.filter(pl.col("design") != "synth")
    assert expected_calibration_error(frame) < POOLED_ECE_BOUND


@pytest.mark.parametrize(
    ("threshold", "scale"), [(0.30, 1.0), (0.40, 1.0), (0.35, 0.5), (0.35, 2.0)]
)
def test_guards_have_teeth(planted, threshold, scale):
    # The same leaders under other constants break at least one bound.
    assert _guards_hold(planted)
    assert not _guards_hold(relabel(planted, threshold=threshold, spread_scale=scale))


@pytest.mark.parametrize("design", sorted(ACCURACY_BOUND))
def test_decided_labels_are_accurate(planted, design):
    summary = decision_summary(_design(planted, design))
    assert summary["accuracy"] >= ACCURACY_BOUND[design]
    # Deciding is not avoided: 82%, 53% and 60% decided here, >= 49% in every window.
    assert summary["decided_share"] >= 0.35


@pytest.mark.parametrize("design", ["synth", "forum", "microblog"])
def test_confident_labels_keep_their_promise(planted, design):
    # A label stated with probability >= 0.95 is wrong at most 5% of the time
    # (measured 0%, 0%, 0%; worst 3-seed window 1.2%, microblog).
    confident = _design(planted, design).filter(pl.col("probability") >= 0.95)
    assert confident.height >= 60
    wrong = (confident.get_column("profile") != confident.get_column("style")).mean()
    assert wrong <= 0.05


# Platform variants, seeds 0-1: (accuracy bound, bound on the wrong share among labels
# stated >= 0.95). Worst 2-seed windows of seeds 0-7: forum accuracy >= 0.979 and
# confident-wrong <= 0.012; microblog without shares 0.970 / 0.024, without mentions
# 0.974 / 0.018, without reactions 0.983 / 0.011. (With one spread for every leader,
# before the spread followed the observed parts, microblog without reactions was 0.906 /
# 0.081 and without mentions 0.935 / 0.066.)
VARIANT_BOUND = {
    ("forum", "no_reactions"): (0.94, 0.05),
    ("forum", "no_shares"): (0.94, 0.05),
    ("forum", "no_mentions"): (0.94, 0.05),
    ("microblog", "no_shares"): (0.94, 0.05),
    ("microblog", "no_mentions"): (0.94, 0.05),
    ("microblog", "no_reactions"): (0.94, 0.05),
}


@pytest.mark.parametrize(("design", "platform"), sorted(VARIANT_BOUND))
def test_platform_variants(design, platform):
    frame = planted_leaders(design, (0, 1), platform=platform)
    accuracy, confident_wrong = VARIANT_BOUND[(design, platform)]
    summary = decision_summary(frame)
    assert summary["accuracy"] >= accuracy
    assert summary["decided_share"] >= 0.3
    confident = frame.filter(pl.col("probability") >= 0.95)
    assert (confident.get_column("profile") != confident.get_column("style")).mean() <= (
        confident_wrong
    )


# Labels on 3 parts short of a part the platform shows (FEW_PARTS_SPREAD). Microblog
# without reactions or without mentions, seeds 2-7 pooled (such leaders post too little
# for conversations or mentions, and are common there): with the package's spreads
# 0.977-1.0 of the decided 3-part labels are right in each pair of seeds (0.987 pooled,
# 42% decided); with the spread of 4-5 parts (0.10) 0.905-0.949 (0.930 pooled; seeds
# 0-1, left out for that, are right with either).
def test_labels_on_three_parts_keep_their_promise():
    frame = pl.concat(
        [
            planted_leaders("microblog", range(2, 8), platform=platform)
            for platform in ("no_reactions", "no_mentions")
        ]
    ).filter(pl.col("parts_observed") == 3)
    assert frame.height >= 300
    summary = decision_summary(frame)
    assert summary["accuracy"] >= 0.96 and summary["wrong_confident"] <= 2
    assert summary["decided_share"] >= 0.3
    one_spread = decision_summary(relabel(frame, few_parts_spread=0.10))
    assert one_spread["accuracy"] < 0.94  # the guard has teeth


def test_part_covariance_is_what_the_independent_designs_show(planted):
    # PART_COVARIANCE is the estimate on forum and microblog, seeds 0-3, every platform
    # variant (benchmarks/validation.py); the full platform's seeds 0-2 alone differ by
    # at most 0.0075 in any entry, and by 0.002 in the spread of the five parts.
    estimate = part_covariance(planted.filter(pl.col("design") != "synth"))
    assert np.abs(estimate - np.array(PART_COVARIANCE)).max() < 0.01
    every = np.ones((1, 5), dtype=bool)
    package = style_spread(every)[0]
    assert abs(style_spread(every, covariance=estimate)[0] - package) < 0.005
    assert 0.09 < package < 0.12


# Platforms that show three parts (no reactions, shares or mentions: Stack Exchange,
# mailing lists), seeds 0-1. Every leader's index rests on the same three parts, and
# the spread of their mean (PART_COVARIANCE: 0.115) decides 36% (forum) and 40%
# (microblog) of the leaders, right 100% and 97.1% of the time; 2-seed windows of seeds
# 0-7: 36-44% decided, accuracy >= 0.95. The 3-part spread of leaders short of a part
# (0.165) for every 3-part index decided 24-29% (before the spread followed the parts).
@pytest.mark.parametrize("design", ["forum", "microblog"])
def test_platforms_that_show_three_parts(design):
    frame = planted_leaders(design, (0, 1), platform=["no_reactions", "no_shares", "no_mentions"])
    assert frame.filter(pl.col("parts_observed") == 3).height >= 0.6 * frame.height
    summary = decision_summary(frame)
    assert summary["accuracy"] >= 0.94 and summary["wrong_confident"] <= 2
    assert summary["decided_share"] >= 0.34
    shown = style_spread(np.array([[False, True, True, True, False]]))[0]  # 0.115
    wide = decision_summary(relabel(frame, spread_scale=FEW_PARTS_SPREAD / shown))
    assert wide["decided_share"] < 0.30  # the guard has teeth


# (c) tribes of one style (pure leaders). Measured over seeds 0-7: own label among
# decided >= 0.975 in every tribe (microblog participators), at most 2 of 130 leaders
# given the opposite label, 61-100% decided (seed 0 here: 1.0 own, none opposite).
# With the simulators' default mixed leaders this does not hold (0.92-0.94 own in the
# worst tribes: docs/validation_synthetic.md).
@pytest.mark.parametrize("design", ["synth", "forum", "microblog"])
@pytest.mark.parametrize("style", ["broadcaster", "participator"])
def test_one_style_tribe_gets_its_own_label(design, style):
    styles = [style] * 40 if design == "synth" else style
    frame = planted_leaders(design, 0, styles=styles, mixed_share=0)
    decided = frame.filter(pl.col("profile") != PROFILES[2])
    other = PROFILES[1 - PROFILES.index(style)]
    assert decided.height >= 0.25 * frame.height
    assert (decided.get_column("profile") == style).mean() >= 0.95
    assert (frame.get_column("profile") == other).sum() <= max(1, round(0.02 * frame.height))


# (d) the index orders the styles.
def test_every_participator_scores_above_every_broadcaster_pure_synth():
    # Pure leaders of the synth design: the gap is >= 0.31 in each of seeds 0-15.
    gaps = style_gap(planted_leaders("synth", (3, 4, 5, 6), mixed_share=0))
    assert gaps.height == 4
    assert (gaps.get_column("gap") > 0.2).all()
    assert (gaps.get_column("ordered_share") == 1.0).all()


def test_index_orders_the_styles_in_each_run(planted):
    # With mixed leaders (and in the forum designs even among pure leaders, whose small
    # audiences give noisy indices) the styles overlap at the edges: each run's share of
    # correctly ordered (participator, broadcaster) pairs, over seeds 0-15, is at least
    # synth 0.980, forum 0.939, microblog 0.893 (all leaders) and 0.976 (pure leaders);
    # no forum or microblog run separates all its leaders, and 24 of 32 do not even
    # among pure leaders.
    floor = {"synth": 0.96, "forum": 0.91, "microblog": 0.87}
    runs = style_gap(planted)
    assert runs.height == 9
    for design, share in runs.select("design", "ordered_share").iter_rows():
        assert share >= floor[design], design
    pure = style_gap(planted.filter(pl.col("mix") == 0))
    assert (pure.get_column("ordered_share") >= 0.96).all()
    assert (style_gap(_design(planted, "synth").filter(pl.col("mix") == 0))["gap"] > 0).all()


# (e) a leader's label is its own.
@pytest.mark.parametrize("design", ["synth", "forum"])
def test_label_does_not_depend_on_the_company(design):
    if design == "synth":
        tribe = simulate_tribe(n_leaders=8, days=30, seed=5)
    else:
        tribe = simulate_forum(n_leaders=8, days=45, seed=5)
    leaders = tribe.truth.get_column("leader_id").to_list()
    columns = ["leader_id", "profile", "reason", "probability"]
    measures = ft.leader_measures(tribe.events, leaders, ego=False)
    together = profile_leaders(measures, n_bootstrap=0)[1].select(columns)
    alone = pl.concat(
        [
            profile_leaders(ft.leader_measures(tribe.events, [leader], ego=False), n_bootstrap=0)[
                1
            ].select(columns)
            for leader in leaders
        ]
    ).sort("leader_id")
    assert together.height == len(leaders)
    assert together.equals(alone)
    # Both labels are among them, so the comparison says something.
    decided = together.filter(pl.col("probability") >= CONFIDENCE)
    assert decided.height >= 3
    assert set(decided.get_column("profile")) == {"broadcaster", "participator"}


# (f) docs/methods.md quotes the generated validation docs, not figures of an older run.
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _table(text: str, heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after ``heading`` (header row left out)."""
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _paragraph(text: str, start: str) -> str:
    """One paragraph of ``text`` from ``start``, its lines joined."""
    block = text[text.index(start) :].split("\n\n")[0]
    return " ".join(block.split())


def test_methods_quotes_the_generated_validation_figures():
    methods = (DOCS / "methods.md").read_text()
    synthetic = (DOCS / "validation_synthetic.md").read_text()
    ceiling = (DOCS / "validation_ceiling.md").read_text()
    decisions = {
        row[0]: row
        for row in _table(synthetic, "## Decisions per design and platform")
        if row[1] == "(all)"
    }
    said = _paragraph(methods, "**Decisions on planted tribes**")
    order = ("synth", "forum", "microblog")
    assert f"{decisions['synth'][3]} (simulator), {decisions['forum'][3]} (forum) and " in said
    assert f"labels {', '.join(decisions[d][4] for d in order[:2])} and " in said
    assert f"and {decisions['microblog'][4]} (" in said
    wrong = [decisions[d][6] for d in order]
    assert f"0.95: {wrong[0]}, {wrong[1]} and {wrong[2]} of " in said
    assert f"of {', '.join(f'{int(decisions[d][2]):,}' for d in order[:2])} and " in said
    variants = _table(synthetic, "## Decisions per design and platform")
    lowest = min(float(row[4]) for row in variants)
    assert f"({lowest:.3f} at the lowest, " in said
    pure = [row for row in _table(synthetic, "## Tribes of one style") if row[2].startswith("none")]
    decided = sorted(float(row[4]) for row in pure)
    own = sorted(float(row[5]) for row in pure)
    assert f"{decided[0]:.3f}–{decided[-1]:.3f} are decided" in said
    assert f"{own[0]:.3f}–{own[-1]:.3f} of those decided" in said
    logistic = [
        float(row[6]) for row in _table(ceiling, "| design | platform |") if row[1] == "full"
    ]
    assert f"only {min(logistic):.2f}–{max(logistic):.2f} of them" in said
    # the reliability table and the calibration errors too
    quoted = _table(methods, "| stated | n | stated (mean) |")
    generated = _table(synthetic, "**all designs**")
    assert [row[:4] for row in quoted] == [row[:4] for row in generated]
    ece = _paragraph(methods, "Expected calibration error (weighted mean")
    rows = {row[0]: row[1] for row in _table(synthetic, "| design | ECE (all platforms) |")}
    assert f"{rows['all']} pooled; per design {rows['synth']} (simulator), " in ece
    assert f"{rows['forum']} (forum), {rows['microblog']} (microblog)" in ece
