"""The bounds of benchmarks/index_ceiling.py: how many leaders a rule could decide at 97%."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import polars as pl

from tribe_analysis.features import leader_measures
from tribe_analysis.synth_forum import simulate_forum
from tribe_analysis.validation import relabel

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))  # index_ceiling imports the validation benchmark
_spec = importlib.util.spec_from_file_location("index_ceiling", BENCHMARKS / "index_ceiling.py")
ceiling = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ceiling)


def test_decided_at_leaves_out_the_band_that_holds_the_mistakes():
    p = np.array([0.95, 0.9, 0.8, 0.55, 0.45, 0.2, 0.1, np.nan])
    y = np.array([True, True, True, False, True, False, False, True])
    # deciding all seven known leaders gets 2 of them wrong; the band |p - 0.5| <= 0.05
    # holds both, and deciding the other five is 100% right
    assert ceiling.decided_at(p, y) == 5 / 8
    assert ceiling.decided_at(np.array([0.9, 0.1]), np.array([False, True])) == 0.0


def test_best_band_finds_the_threshold_that_separates():
    index = np.array([0.05, 0.1, 0.15, 0.3, 0.35, 0.4])
    y = index > 0.2
    assert ceiling.decided_at(index, y) < 1.0  # a cut at 0.5 calls the three high ones wrong
    assert ceiling.best_band(index, y) == 1.0


def test_ceilings_are_shares_of_all_leaders():
    tribe = simulate_forum(n_leaders=40, days=20, seed=2, design="microblog")
    measures = leader_measures(tribe.events, tribe.leaders, ego=False)
    truth = tribe.truth.join(tribe.evidence, on="leader_id").join(
        ceiling.clean_rates(tribe.events, tribe.leaders), on="leader_id"
    )
    frame = relabel(measures.join(truth, on="leader_id")).with_columns(
        pl.lit("microblog").alias("design"), pl.lit("full").alias("platform")
    )
    table = ceiling.ceilings(frame)
    assert table.height == 1 and table["leaders"].item() == 40
    shares = table.drop("design", "platform", "leaders", "package rule: accuracy").row(0)
    assert all(0 <= share <= 1 for share in shares)
    for other in (ceiling.counted_subsets(frame), ceiling.clean_table(frame)):
        assert other.height == 1 and all(0 <= s <= 1 for s in other.drop("design").row(0))


def test_clean_rates_count_one_behaviour_each():
    tribe = simulate_forum(n_leaders=12, days=15, seed=1)
    rates = ceiling.clean_rates(tribe.events, tribe.leaders)
    assert rates["leader_id"].to_list() == tribe.leaders
    for rate in ("react", "comment", "share", "mention"):
        assert (rates[f"c_{rate}_k"] <= rates[f"c_{rate}_n"]).all()
    posts = tribe.events.filter(pl.col("action") == "post").group_by("actor_id").len()
    n_posts = dict(posts.iter_rows())
    assert rates["c_mention_n"].to_list() == [n_posts.get(leader, 0) for leader in tribe.leaders]
    # the counted logits: one column per behaviour the platform shows
    frame = tribe.truth.join(tribe.evidence, on="leader_id")
    assert ceiling.counted(frame, "full").shape == (12, 7)
    assert ceiling.counted(frame, "no_reactions").shape == (12, 6)
