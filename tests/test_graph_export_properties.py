"""Hypothesis properties of the graph files (``graph_export``), against independent readers.

GraphML and GEXF files written from any edge list, with hostile ids and display names
(XML-special characters, characters XML 1.0 forbids, white space at either end, ids
that look like numbers, non-BMP emoji, long strings), read back with networkx and with
a strict XML parser (:mod:`xml.etree.ElementTree`):

- every account is one node and every edge one edge, with the counts of the edge list
  (no two accounts merged, no parallel edges);
- an id reads back as itself where XML 1.0 can hold it, and otherwise as the module
  documents: each forbidden character as U+FFFD and its code point (an oracle written
  from the XML 1.0 ``Char`` production, not from the module's pattern);
- leaders are flagged, display names are the nodes' labels.
"""

from __future__ import annotations

from xml.etree import ElementTree

import hypothesis
import networkx as nx
import polars as pl
import pytest
from hypothesis import strategies as st

from tribe_analysis import graph as gr
from tribe_analysis.graph_export import write_graph_files

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
GEXF = "{http://www.gexf.net/1.2draft}"


def _xml_char(c: str) -> bool:
    """XML 1.0 ``Char`` (section 2.2): #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | ..."""
    n = ord(c)
    return n in (0x9, 0xA, 0xD) or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or n >= 0x10000


def shown(account: str) -> str:
    """An id as the files hold it: each character XML cannot hold as U+FFFD and its code."""
    return "".join(c if _xml_char(c) else f"\ufffd{ord(c):04X}" for c in account)


def shown_name(name: str) -> str:
    """A display name as the files hold it: each character XML cannot hold as U+FFFD."""
    return "".join(c if _xml_char(c) else "\ufffd" for c in name)


_HOSTILE = st.sampled_from(
    ["<", "&", ">", '"', "'", " ", "\t", "\n", "\r", "\x01", "\x02", "\x1f", "\x0b", "\ufffe"]
    + ["\uffff", "\ufffd", "😀", "é", "1", "0", ".", "e", "-", "a", "b", "]]>", "&amp;"]
)
ACCOUNTS = st.one_of(
    st.lists(_HOSTILE, min_size=1, max_size=5).map("".join),
    st.sampled_from(["1", "01", "1.0", "1e3", "-0", "true", "NaN", " x ", "x" * 500]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=4),
)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str], dict[str, str]]:
    """An edge list of distinct non-NUL accounts, some of them leaders, some with names."""
    accounts = draw(
        st.lists(ACCOUNTS.filter(lambda a: "\x00" not in a), min_size=2, max_size=8, unique=True)
    )
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(accounts), st.sampled_from(accounts)),
            max_size=20,
            unique=True,
        )
    )
    counts = st.tuples(*[st.integers(0, 3)] * 4).filter(any)
    rows = [(s, t, *draw(counts)) for s, t in pairs if s != t]
    edges = pl.DataFrame(
        [(*row, sum(row[2:])) for row in rows], schema=gr.EDGE_SCHEMA, orient="row"
    )
    leaders = draw(st.lists(st.sampled_from(accounts), max_size=3, unique=True))
    names = draw(st.dictionaries(st.sampled_from(accounts), ACCOUNTS, max_size=3))
    return edges, leaders, names


def _expected(edges: pl.DataFrame, leaders: list[str]) -> tuple[set[str], dict]:
    nodes = {shown(a) for a in [*edges["source"], *edges["target"], *leaders]}
    want = {
        (shown(row["source"]), shown(row["target"])): {k: row[k] for k in gr._ATTRS}
        for row in edges.iter_rows(named=True)
    }
    return nodes, want


@hypothesis.settings(max_examples=50, deadline=None)
@hypothesis.given(case=graphs())
def test_every_account_one_node_every_edge_its_counts(tmp_path_factory, case) -> None:
    edges, leaders, names = case
    folder = tmp_path_factory.mktemp("g")
    graphml, gexf = write_graph_files(
        edges.reverse(), [folder / "g.graphml", folder / "g.gexf"], leaders=leaders, names=names
    )
    nodes, want = _expected(edges, leaders)
    flagged = {shown(a) for a in leaders}
    labels = {shown(a): shown_name(n) for a, n in names.items() if n != a and shown(a) in nodes}
    for path, read in ((graphml, nx.read_graphml), (gexf, nx.read_gexf)):
        back = read(path)
        assert type(back) is nx.DiGraph, path.suffix  # a MultiDiGraph: two accounts merged
        assert set(back.nodes) == nodes and back.number_of_nodes() == len(nodes)
        got = {(u, v): {k: int(d[k]) for k in gr._ATTRS} for u, v, d in back.edges(data=True)}
        assert got == want, path.suffix
        assert {n for n, d in back.nodes(data=True) if d["leader"]} == flagged
        got_labels = {n: d["label"] for n, d in back.nodes(data=True) if "label" in d}
        if path is gexf:  # GEXF's label is the id without a name
            labels = {n: labels.get(n, n) for n in nodes}
        assert got_labels == labels, path.suffix


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(case=graphs())
def test_a_strict_parser_reads_the_same_nodes_and_edges(tmp_path_factory, case) -> None:
    edges, leaders, names = case
    folder = tmp_path_factory.mktemp("g")
    graphml, gexf = write_graph_files(
        edges, [folder / "g.graphml", folder / "g.gexf"], leaders=leaders, names=names
    )
    nodes, want = _expected(edges, leaders)
    in_order = [(shown(s), shown(t)) for s, t in sorted(edges.select("source", "target").rows())]
    for path, ns in ((graphml, GRAPHML), (gexf, GEXF)):
        root = ElementTree.parse(path).getroot()
        ids = [n.get("id") for n in root.iter(f"{ns}node")]
        assert sorted(ids) == sorted(nodes)  # each account once
        pairs = [(e.get("source"), e.get("target")) for e in root.iter(f"{ns}edge")]
        assert pairs == in_order  # each edge once, in the edge list's order
    weights = [int(e.get("weight")) for e in ElementTree.parse(gexf).getroot().iter(f"{GEXF}edge")]
    assert weights == [want[pair]["weight"] for pair in in_order]


def test_ids_the_files_cannot_tell_apart_are_an_error_not_one_node(tmp_path) -> None:
    """The one way two ids could still be written alike: an id holding that text as such."""
    edges = pl.DataFrame(
        [("a\x01", "b", 1, 0, 0, 0, 1), ("a\ufffd0001", "b", 1, 0, 0, 0, 1)],
        schema=gr.EDGE_SCHEMA,
        orient="row",
    )
    with pytest.raises(ValueError, match="cannot be told apart in a GraphML or GEXF file"):
        write_graph_files(edges, [tmp_path / "g.graphml"])
    with pytest.raises(ValueError, match="cannot be told apart in a GraphML or GEXF file"):
        gr.write_graph(gr.to_networkx(edges), tmp_path / "n.gexf")


ACCOUNTS_E2E = ["ann", "b<&>\"'", " sp ", "1", "01", "😀", "tab\there", "c\x01", "c\x02", "x" * 300]


@st.composite
def export_rows(draw: st.DrawFn) -> pl.DataFrame:
    """Canonical events of hostile accounts: replies, shares, reactions, mentions."""
    rows = []
    for i in range(draw(st.integers(5, 60))):
        action = draw(st.sampled_from(["post", "reply", "share", "reaction"])) if i else "post"
        parent = draw(st.sampled_from([f"e{j}" for j in range(i)] + ["gone"])) if i else None
        rows.append(
            {
                "event_id": f"e{i}",
                "timestamp": f"2024-03-01T{draw(st.integers(0, 23)):02d}:00:00Z",
                "actor_id": draw(st.sampled_from(ACCOUNTS_E2E)),
                "action": action,
                "parent_id": None if action == "post" else parent,
                "mentions": draw(st.lists(st.sampled_from(ACCOUNTS_E2E), max_size=2)),
            }
        )
    return pl.DataFrame(rows, schema_overrides={"mentions": pl.List(pl.String)})


@hypothesis.settings(max_examples=6, deadline=None)
@hypothesis.given(frame=export_rows(), seed=st.integers(0, 99))
def test_the_profile_command_writes_graph_files_of_its_edges(tmp_path_factory, frame, seed):
    """``profile`` end to end: both graph files hold edges.parquet (all, or the tribe's).

    The same events in another row order give the same bytes of every graph file.
    """
    from click.testing import CliRunner

    from tribe_analysis.cli import main
    from tribe_analysis.graph_export import tribe_edges

    folder = tmp_path_factory.mktemp("run")
    leaders = sorted(set(frame["actor_id"]))[:2]
    (folder / "leaders.txt").write_text("".join(f"{a}\n" for a in leaders if a.strip() == a))
    leaders = [a for a in leaders if a.strip() == a]
    hypothesis.assume(leaders)
    for name, rows in (("a", frame), ("b", frame.sample(fraction=1.0, shuffle=True, seed=seed))):
        rows.write_parquet(folder / f"{name}.parquet")
        for scope in ("tribe", "full"):
            args = ["profile", str(folder / f"{name}.parquet"), "--no-report", "--graph", scope]
            args += ["--leaders", str(folder / "leaders.txt"), "--out", str(folder / name / scope)]
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
    for scope in ("tribe", "full"):
        out = folder / "a" / scope
        edges = pl.read_parquet(out / "edges.parquet")
        shown_edges = edges if scope == "full" else tribe_edges(edges, leaders)
        nodes, want = _expected(shown_edges, leaders)
        for file, read in (("graph.graphml", nx.read_graphml), ("graph.gexf", nx.read_gexf)):
            back = read(out / file)
            assert type(back) is nx.DiGraph and set(back.nodes) == nodes, (scope, file)
            got = {(u, v): {k: int(d[k]) for k in gr._ATTRS} for u, v, d in back.edges(data=True)}
            assert got == want, (scope, file)
            assert (out / file).read_bytes() == (folder / "b" / scope / file).read_bytes()
        assert (out / "edges.parquet").read_bytes() == (
            folder / "b" / scope / "edges.parquet"
        ).read_bytes()


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(case=graphs())
def test_networkx_writer_files_parse_and_hold_the_same_graph(tmp_path_factory, case) -> None:
    """``graph.write_graph`` (of the whole graph or an ego network) writes ids as the files do."""
    edges, leaders, _ = case
    folder = tmp_path_factory.mktemp("g")
    nodes, want = _expected(edges, leaders)
    for suffix, read in ((".graphml", nx.read_graphml), (".gexf", nx.read_gexf)):
        whole = gr.write_graph(gr.to_networkx(edges, actors=leaders), folder / f"g{suffix}")
        back = read(whole)
        assert set(back.nodes) == nodes and back.number_of_nodes() == len(nodes)
        got = {(u, v): {k: int(d[k]) for k in gr._ATTRS} for u, v, d in back.edges(data=True)}
        assert got == want
        for leader, ego in gr.ego_networks(edges, leaders).items():
            back = read(gr.write_graph(ego, folder / f"ego{suffix}"))
            assert set(back.nodes) == {shown(a) for a in ego.nodes}, leader
            assert back.number_of_edges() == ego.number_of_edges()
