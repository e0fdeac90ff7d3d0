from __future__ import annotations

import re
from xml.etree import ElementTree

import hypothesis
import networkx as nx
import polars as pl
import pytest
from hypothesis import strategies as st

from tribe_analysis import graph as gr
from tribe_analysis.graph_export import (
    tribe_edges,
    write_edges,
    write_graph_file,
    write_graph_files,
)
from tribe_analysis.synth import simulate_tribe


@pytest.fixture(scope="module")
def tribe():
    return simulate_tribe(n_leaders=6, days=20, seed=4)


@pytest.fixture(scope="module")
def edges(tribe):
    return gr.edge_list(tribe.events)


def _as_dict(edges: pl.DataFrame) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (row["source"], row["target"]): {
            k: row[k] for k in ("reply", "reaction", "share", "mention", "weight")
        }
        for row in edges.iter_rows(named=True)
    }


@pytest.mark.parametrize(
    ("suffix", "read"), [(".graphml", nx.read_graphml), (".gexf", nx.read_gexf)]
)
def test_round_trip_with_weights(tmp_path, edges, tribe, suffix, read):
    path = write_graph_file(edges, tmp_path / f"g{suffix}", leaders=tribe.leaders)
    back = read(path)
    assert isinstance(back, nx.DiGraph)
    want = _as_dict(edges)
    assert back.number_of_edges() == len(want)
    for (u, v), attrs in want.items():
        got = back.edges[u, v]
        for name, value in attrs.items():
            assert got[name] == value, (u, v, name)
    assert {n for n, d in back.nodes(data=True) if d["leader"]} == set(tribe.leaders)


@pytest.mark.parametrize("suffix", [".graphml", ".gexf"])
def test_same_graph_as_networkx_writer(tmp_path, edges, suffix):
    ours = nx.read_graphml if suffix == ".graphml" else nx.read_gexf
    mine = ours(write_graph_file(edges, tmp_path / f"a{suffix}"))
    theirs = ours(gr.write_graph(gr.to_networkx(edges), tmp_path / f"b{suffix}"))
    assert sorted(mine.edges(data="weight")) == sorted(theirs.edges(data="weight"))
    assert sorted(mine.nodes) == sorted(theirs.nodes)


def test_byte_identical_and_valid_xml_for_any_id(tmp_path):
    edges = pl.DataFrame(
        {
            "source": ["a\x00b", 'q"<&>'],
            "target": ["c", "a\x00b"],
            "reply": [1, 0],
            "reaction": [0, 1],
            "share": [0, 0],
            "mention": [0, 0],
            "weight": [1, 1],
        }
    )
    first = write_graph_file(edges, tmp_path / "a.graphml").read_bytes()
    assert first == write_graph_file(edges, tmp_path / "b.graphml").read_bytes()
    back = nx.read_graphml(tmp_path / "a.graphml")
    assert set(back.nodes) == {"a\ufffd0000b", 'q"<&>', "c"}
    assert nx.read_gexf(write_graph_file(edges, tmp_path / "a.gexf")).number_of_edges() == 2


def test_tribe_subgraph_holds_leaders_alters_and_their_ties(edges, tribe):
    sub = tribe_edges(edges, tribe.leaders)
    leaders = set(tribe.leaders)
    alters = set(edges.filter(pl.col("source").is_in(list(leaders)))["target"]) | set(
        edges.filter(pl.col("target").is_in(list(leaders)))["source"]
    )
    near = leaders | alters
    want = edges.filter(pl.col("source").is_in(list(near)) & pl.col("target").is_in(list(near)))
    assert sub.sort("source", "target").equals(want.sort("source", "target"))
    assert sub.height < edges.height


def test_edges_parquet_round_trip(tmp_path, edges):
    back = pl.read_parquet(write_edges(edges, tmp_path / "edges.parquet"))
    assert back.schema == gr.EDGE_SCHEMA
    assert back.equals(edges.sort("source", "target"))


def test_unknown_suffix(tmp_path, edges):
    with pytest.raises(ValueError, match="expected one of .graphml, .gexf"):
        write_graph_file(edges, tmp_path / "g.json")


def test_several_files_at_once_are_the_files_one_at_a_time(tmp_path, edges, tribe):
    one = [tmp_path / "one.graphml", tmp_path / "one.gexf"]
    both = [tmp_path / "both.graphml", tmp_path / "both.gexf"]
    for path in one:
        write_graph_file(edges, path, leaders=tribe.leaders)
    assert write_graph_files(edges.reverse(), both, leaders=tribe.leaders) == both
    for a, b in zip(one, both, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_unknown_suffix_among_several_writes_nothing(tmp_path, edges):
    with pytest.raises(ValueError, match="expected one of .graphml, .gexf"):
        write_graph_files(edges, [tmp_path / "g.graphml", tmp_path / "g.json"])
    assert not (tmp_path / "g.graphml").exists()


def test_written_in_slices_is_the_file_written_whole(tmp_path, edges, tribe, monkeypatch):
    from tribe_analysis import graph_export

    whole = [tmp_path / "whole.graphml", tmp_path / "whole.gexf"]
    sliced = [tmp_path / "sliced.graphml", tmp_path / "sliced.gexf"]
    write_graph_files(edges, whole, leaders=tribe.leaders)
    monkeypatch.setattr(graph_export, "SLICE_ROWS", 7)  # many slices, the last one short
    assert edges.height % 7 and edges.height > 7 * 3
    write_graph_files(edges, sliced, leaders=tribe.leaders)
    for a, b in zip(whole, sliced, strict=True):
        assert a.read_bytes() == b.read_bytes()
    tree = ElementTree.parse(sliced[1])
    ids = [e.get("id") for e in tree.iter("{http://www.gexf.net/1.2draft}edge")]
    assert ids == [str(i) for i in range(edges.height)]  # numbered across slices


def test_a_failing_file_fails_the_call(tmp_path, edges):
    (tmp_path / "taken.gexf").mkdir()  # a folder where the file should go
    with pytest.raises(OSError):
        write_graph_files(edges, [tmp_path / "g.graphml", tmp_path / "taken.gexf"])


_IDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6)


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    pairs=st.lists(st.tuples(_IDS, _IDS, st.integers(0, 3), st.integers(0, 3)), max_size=25),
    slice_rows=st.sampled_from([1, 2, 5, 1 << 18]),
)
def test_any_ids_in_any_slices_read_back_with_their_weights(pairs, slice_rows, tmp_path_factory):
    """Every edge and weight comes back from both files, whatever the ids and the slices."""
    from tribe_analysis import graph_export

    rows = {}
    for source, target, reply, mention in pairs:
        if source != target and reply + mention:
            rows[(source, target)] = (reply, mention)
    edges = pl.DataFrame(
        {
            "source": [s for s, _ in rows],
            "target": [t for _, t in rows],
            "reply": [r for r, _ in rows.values()],
            "reaction": [0] * len(rows),
            "share": [0] * len(rows),
            "mention": [m for _, m in rows.values()],
            "weight": [r + m for r, m in rows.values()],
        },
        schema=gr.EDGE_SCHEMA,
    )
    folder = tmp_path_factory.mktemp("g")
    old, graph_export.SLICE_ROWS = graph_export.SLICE_ROWS, slice_rows
    try:
        paths = write_graph_files(edges, [folder / "g.graphml", folder / "g.gexf"])
    finally:
        graph_export.SLICE_ROWS = old

    def shown(name: str) -> str:  # what XML 1.0 can hold: forbidden characters as U+FFFD + code
        return re.sub(graph_export._INVALID_XML, lambda m: f"\ufffd{ord(m[0]):04X}", name)

    want = {(shown(s), shown(t)): r + m for (s, t), (r, m) in rows.items()}
    for path, read in zip(paths, (nx.read_graphml, nx.read_gexf), strict=True):
        back = read(path)
        got = {(u, v): int(w) for u, v, w in back.edges(data="weight")}
        assert got == want, path.suffix
