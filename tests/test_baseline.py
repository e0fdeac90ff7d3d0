"""The pandas + networkx baseline of benchmarks/ reproduces the hand-computed measures.

The benchmark compares ``leader_measures`` with ``benchmarks/baseline_pandas.py``;
this holds the baseline to the values computed by hand in ``tests/test_features.py``
so that an agreement between the two means something.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest

from tests.test_features import EXPECTED, ROWS, tiny_events
from tribe_analysis import graph

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "baseline_pandas.py"
_SPEC = importlib.util.spec_from_file_location("baseline_pandas", _PATH)
baseline = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(baseline)

EGO = ["ego_size", "ego_density", "ego_clustering", "ego_effective_size", "ego_constraint"]
# By hand: no ties among any leader's alters; undirected tie weights (both directions summed)
# A: m1 2, m2 1, m3 1, m4 1; B: m5 4, m6 2, m7 2, m8 3, m9 1; C: m10 1, m11 1.
EGO_EXPECTED = {
    "A": {"ego_size": 4, "ego_density": 0.0, "ego_effective_size": 4.0, "ego_constraint": 7 / 25},
    "B": {"ego_size": 5, "ego_density": 0.0, "ego_effective_size": 5.0, "ego_constraint": 34 / 144},
    "C": {"ego_size": 2, "ego_density": 0.0, "ego_effective_size": 2.0, "ego_constraint": 0.5},
}


def _value(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    table = baseline.pandas_measures(tiny_events().to_pandas(), ["C", "A", "B"], min_denominator=1)
    assert table["leader_id"].tolist() == ["A", "B", "C"]
    return {row["leader_id"]: row for row in table.to_dict("records")}


def _shared_columns() -> list[str]:
    columns = baseline.pandas_measures(tiny_events().to_pandas(), ["A"], min_denominator=1).columns
    shared = sorted(set(EXPECTED["A"]) & set(columns))
    assert len(shared) == len(EXPECTED["A"])  # the baseline has every hand-checked column
    return shared


@pytest.mark.parametrize("leader", ["A", "B", "C"])
def test_baseline_reproduces_hand_values(rows, leader):
    wrong = {}
    for column in _shared_columns():
        want, got = EXPECTED[leader][column], _value(rows[leader][column])
        if want is None or got is None:
            ok = want is None and got is None
        else:
            ok = got == pytest.approx(want, abs=1e-12)
        if not ok:
            wrong[column] = (want, got)
    assert not wrong


@pytest.mark.parametrize("leader", ["A", "B", "C"])
def test_baseline_ego_measures(rows, leader):
    for column, want in EGO_EXPECTED[leader].items():
        assert rows[leader][column] == pytest.approx(want, abs=1e-12)
    assert rows[leader]["ego_clustering"] == pytest.approx(rows[leader]["ego_density"])


def test_baseline_ego_matches_ego_measures(rows):
    events = tiny_events()
    want = graph.ego_measures(graph.edge_list(events), ["A", "B", "C"])
    for record in want.iter_rows(named=True):
        for column in EGO:
            assert rows[record["leader_id"]][column] == pytest.approx(record[column], abs=1e-12)


def test_baseline_minimum_denominator_and_missing_leader():
    table = baseline.pandas_measures(tiny_events().to_pandas(), ["A", "nobody"])
    a, nobody = table.to_dict("records")
    assert math.isnan(a["reply_rate"]) and (a["reply_rate_num"], a["reply_rate_den"]) == (0, 3)
    assert math.isnan(a["participants"]) and math.isnan(a["participation_index"])
    assert nobody["authored"] == 0 and nobody["tribe_size"] == 0 and nobody["ego_size"] == 0
    assert nobody["give_receive_log_ratio"] == 0.0
    assert all(math.isnan(nobody[name]) for name in ("participation_index", *EGO[1:]))


def test_baseline_orphan_replies_count_as_depth_one():
    rows = [*ROWS, ("o1", 50, "m13", "reply", "gone", []), ("o2", 51, "B", "reply", "o1", [])]
    table = baseline.pandas_measures(tiny_events(rows).to_pandas(), ["B"], min_denominator=1)
    b = table.iloc[0]
    # o2 answers m13 in a thread rooted outside the data: a comment on others' content
    assert (b["comment_share_num"], b["comment_targets"]) == (3, 4)
    assert isinstance(table, pd.DataFrame)
