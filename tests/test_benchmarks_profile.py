"""The baselines of benchmarks/bench_profile.py agree with each other and with the package.

``naive_pandas.py`` (pandas + networkx) and ``minimal_polars.py`` must give the
same leaders and the same five measures on a small simulated tribe, and those
must be the package's (``select_leaders(evidence=False)``, ``leader_measures``,
``graph.edge_list``); otherwise the benchmark would compare different work.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import networkx as nx
import polars as pl
import pytest

from tribe_analysis import features, graph
from tribe_analysis.events import conform, derive_threads
from tribe_analysis.synth_forum import simulate_forum

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))  # bench_profile imports common
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


naive = _load("naive_pandas")
minimal = _load("minimal_polars")
bench = _load("bench_profile")
common = _load("common")

RATES = ["comment_share", "reply_rate", "promotion_share"]
INTS = ["audience", "authored", "posts", *(f"{r}_{p}" for r in RATES for p in ("num", "den"))]


def _same(a: list, b: list) -> bool:
    """Equal lists of numbers or None, floats to 1e-12 (relative)."""
    return len(a) == len(b) and all(
        x is y is None or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-12))
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture(scope="module")
def events_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    events = simulate_forum(n_leaders=8, days=10, seed=1, design="microblog").events
    path = tmp_path_factory.mktemp("bench") / "events.parquet"
    events.write_parquet(path)
    return path


@pytest.fixture(scope="module")
def tables(events_path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(pandas baseline, polars baseline) as polars frames, NaN read as null."""
    events = naive.read_events([events_path])
    pandas_table = naive.leader_measures(events, naive.top_leaders(events))
    polars_table = minimal.leader_measures(pl.scan_parquet(events_path))
    converted = pl.from_pandas(pandas_table).with_columns(pl.col(RATES).fill_nan(None))
    return converted, polars_table


def test_the_two_baselines_give_identical_numbers(tables) -> None:
    pandas_table, polars_table = tables
    assert polars_table.height == 20
    assert pandas_table["leader_id"].to_list() == polars_table["leader_id"].to_list()
    for column in INTS:
        assert pandas_table[column].cast(pl.Int64).to_list() == polars_table[column].to_list()
    for rate in RATES:
        assert _same(pandas_table[rate].to_list(), polars_table[rate].to_list()), rate


def test_the_baselines_compute_the_package_measures(events_path: Path, tables) -> None:
    _, polars_table = tables
    events = pl.read_parquet(events_path)
    leaders = polars_table["leader_id"].to_list()
    assert leaders == features.select_leaders(events, top=20, evidence=False)
    ours = features.leader_measures(events, leaders, ego=False)
    compared = ["posts", *(f"{r}_{p}" for r in RATES for p in ("num", "den")), *RATES]
    joined = polars_table.join(ours.select("leader_id", *compared), on="leader_id", suffix="_ours")
    assert joined.height == len(leaders)
    for column in compared:
        assert _same(joined[column].to_list(), joined[f"{column}_ours"].to_list()), column


# Edge cases by hand: a self-mention, a reply and a share whose parent is not in the data
# (unknown root and target: they count as others'), a share of one's own post, a
# reply to oneself, an account that only reacts (never a leader).
HAND = [
    ("p1", "ann", "post", None, ["bob", "ann"]),
    ("p2", "ann", "post", None, ["ann"]),
    ("p3", "ann", "post", None, ["cid"]),
    ("p4", "ann", "post", None, []),
    ("p5", "ann", "post", None, []),
    ("r1", "bob", "reply", "p1", []),
    ("r2", "ann", "reply", "r1", []),
    ("r3", "cid", "reply", "p2", []),
    ("r4", "dan", "reply", "p2", ["ann"]),
    ("r5", "ann", "reply", "r2", []),
    ("q1", "bob", "post", None, []),
    ("r6", "ann", "reply", "q1", []),
    ("o1", "cid", "reply", "elsewhere", []),
    ("r7", "ann", "reply", "o1", []),
    ("s1", "ann", "share", "p1", []),
    ("s2", "ann", "share", "q1", []),
    ("s3", "ann", "share", "gone", []),
    ("x1", "bob", "reaction", "p1", []),
    ("x2", "eve", "reaction", "p3", []),
    ("x3", "cid", "reaction", "q1", []),
]
# leader: audience, authored, posts, comment_share, reply_rate, promotion_share (num, den)
HAND_EXPECTED = {
    "ann": (4, 12, 5, (2, 12), (1, 3), (4, 8)),
    "bob": (2, 2, 1, (1, 2), (0, 1), (0, 1)),
    "cid": (1, 2, 0, (2, 2), (0, 0), (0, 0)),
}


def test_edge_cases_by_hand(tmp_path: Path) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    names = ["event_id", "actor_id", "action", "parent_id", "mentions"]
    frame = pl.DataFrame([dict(zip(names, row, strict=True)) for row in HAND]).with_columns(
        timestamp=pl.Series([start + timedelta(minutes=i) for i in range(len(HAND))])
    )
    events = derive_threads(conform(frame, platform="events"))
    path = tmp_path / "hand.parquet"
    events.write_parquet(path)
    by_polars = minimal.leader_measures(pl.scan_parquet(path))
    pandas_events = naive.read_events([path])
    by_pandas = pl.from_pandas(
        naive.leader_measures(pandas_events, naive.top_leaders(pandas_events))
    )
    ours = features.leader_measures(events, list(HAND_EXPECTED), ego=False).sort("leader_id")
    for table in (by_polars, by_pandas, ours):
        got = {
            row["leader_id"]: (
                row.get("audience", HAND_EXPECTED[row["leader_id"]][0]),
                row["authored"],
                row["posts"],
                *((row[f"{r}_num"], row[f"{r}_den"]) for r in RATES),
            )
            for row in table.iter_rows(named=True)
        }
        assert got == HAND_EXPECTED
    assert by_polars["leader_id"].to_list() == features.select_leaders(
        events, top=20, evidence=False
    )


def test_the_pandas_graph_is_the_package_edge_list(events_path: Path) -> None:
    events = naive.read_events([events_path])
    built = naive.interaction_graph(events)
    edges = graph.edge_list(pl.read_parquet(events_path))
    assert built.number_of_edges() == edges.height
    assert all(
        built[s][t]["weight"] == w for s, t, w in edges.select("source", "target", "weight").rows()
    )


def test_the_scripts_write_their_files(events_path: Path, tmp_path: Path) -> None:
    naive.main([str(events_path), "--out", str(tmp_path / "pandas"), "--leaders", "5"])
    minimal.main([str(events_path), "--out", str(tmp_path / "polars"), "--leaders", "5"])
    a = pl.read_csv(tmp_path / "pandas" / "measures.csv")
    b = pl.read_csv(tmp_path / "polars" / "measures.csv")
    assert a.select(INTS).equals(b.select(INTS)) and a.height == 5
    assert nx.read_graphml(tmp_path / "pandas" / "graph.graphml").number_of_edges() > 0
    assert bench.agreement(tmp_path / "missing", tmp_path / "polars").startswith("not compared")


def test_prefix_ids_separates_chunks() -> None:
    frame = pl.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "actor_id": ["a", "b"],
            "parent_id": [None, "e1"],
            "thread_id": ["e1", "e1"],
            "target_actor_id": [None, "a"],
            "mentions": [["b"], []],
        }
    )
    out = common.prefix_ids(frame, "c2:")
    assert out.row(1) == ("c2:e2", "c2:b", "c2:e1", "c2:e1", "c2:a", [])
    assert out["parent_id"][0] is None and out["mentions"][0].to_list() == ["c2:b"]


def test_results_of_a_size_run_again_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    row = {"events": 10, "peak_rss_mb": 100, "exit_code": 0}
    bench.save([{**row, "size": "1M", "implementation": "polars", "seconds": 1.0}], path, False)
    bench.save([{**row, "size": "5M", "implementation": "polars", "seconds": 5.0}], path, False)
    new = [
        {**row, "size": "1M", "implementation": "tribe-analysis", "seconds": 4.0},
        {**row, "size": "1M", "implementation": "pandas", "seconds": 8.0, "peak_rss_mb": 300},
    ]
    bench.save(new, path, False)
    saved = json.loads(path.read_text())
    assert [(r["size"], r["implementation"]) for r in saved] == [
        ("5M", "polars"),
        ("1M", "tribe-analysis"),
        ("1M", "pandas"),
    ]
    assert "| 2.00× | 3.00× |" in bench.markdown(new)
    assert bench.nominal("200k") == 2e5 and bench.nominal("100M") == 1e8


def test_same_files_names_what_differs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "profiles.csv").write_text("x\n")
        (folder / "edges.parquet").write_bytes(b"1")
    assert bench.same_files(a, b) == "all 2 files byte-identical"
    (b / "edges.parquet").write_bytes(b"2")
    assert bench.same_files(a, b) == "edges.parquet differ"
    (b / "extra.csv").write_text("")
    assert bench.same_files(a, b) == "different files written"
    assert bench.command(bench.OUT_OF_CORE, [a], b)[-1] == "--out-of-core"
    assert "--out-of-core" not in bench.command(bench.OURS, [a], b)
