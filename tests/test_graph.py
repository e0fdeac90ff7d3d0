from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import networkx as nx
import numpy as np
import polars as pl
import pytest

from tribe_analysis import events as ev
from tribe_analysis import graph as gr

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)

# (event_id, actor, action, parent, mentions)
TINY = [
    ("p1", "ann", "post", None, ["bob", "cid"]),  # mentions: ann -> bob, ann -> cid
    ("r1", "bob", "reply", "p1", []),  # bob -> ann reply
    ("r2", "ann", "reply", "r1", []),  # ann -> bob reply
    ("r3", "ann", "reply", "r2", []),  # self-reply: no edge
    ("x1", "cid", "reaction", "p1", []),  # cid -> ann reaction
    ("x2", "dan", "reaction", "r1", []),  # dan -> bob reaction
    ("s1", "eve", "share", "p1", ["fay"]),  # eve -> ann share; the mention is ann's: no edge
    ("s2", "ann", "share", "p1", []),  # self-share: no edge
    # bob -> ann mention, counted once; the self-mention is dropped
    ("p2", "bob", "post", None, ["ann", "bob", "ann"]),
    ("r4", "cid", "reply", "p2", []),  # cid -> bob reply
    # parent outside the data: no reply edge; its mention still counts (dan -> eve)
    ("o1", "dan", "reply", "gone", ["eve"]),
    ("x3", "fay", "reaction", "s1", []),  # fay -> eve reaction (the sharer)
    ("r5", "bob", "reply", "r2", []),  # bob -> ann reply
]

TINY_EDGES = [
    # source, target, reply, reaction, share, mention, weight
    ("ann", "bob", 1, 0, 0, 1, 2),
    ("ann", "cid", 0, 0, 0, 1, 1),
    ("bob", "ann", 2, 0, 0, 1, 3),
    ("cid", "ann", 0, 1, 0, 0, 1),
    ("cid", "bob", 1, 0, 0, 0, 1),
    ("dan", "bob", 0, 1, 0, 0, 1),
    ("dan", "eve", 0, 0, 0, 1, 1),
    ("eve", "ann", 0, 0, 1, 0, 1),
    ("fay", "eve", 0, 1, 0, 0, 1),
]


def make_events(rows) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "timestamp": [T0 + timedelta(minutes=i) for i in range(len(rows))],
            "actor_id": [r[1] for r in rows],
            "action": [r[2] for r in rows],
            "parent_id": [r[3] for r in rows],
            "mentions": [r[4] for r in rows],
        },
        schema_overrides={"mentions": pl.List(pl.String), "parent_id": pl.String},
    )
    return ev.derive_threads(ev.conform(frame, platform="events"))


@pytest.fixture(scope="module")
def tiny_events() -> pl.DataFrame:
    return make_events(TINY)


@pytest.fixture(scope="module")
def tiny_edges(tiny_events) -> pl.DataFrame:
    return gr.edge_list(tiny_events)


def random_tribe(seed: int, n_actors: int = 30, n_events: int = 500) -> pl.DataFrame:
    """Random events: parents among earlier events (some outside the data), random mentions."""
    rng = np.random.default_rng(seed)
    actors = [f"a{i:02d}" for i in range(n_actors)]
    popularity = 1.0 / np.arange(1, n_actors + 1)
    popularity /= popularity.sum()
    rows = []
    for i in range(n_events):
        actor = actors[rng.choice(n_actors, p=popularity)]
        action = "post" if i < 5 else str(rng.choice(["post", "reply", "share", "reaction"]))
        parent = None
        if action != "post":
            parent = f"e{rng.integers(0, i)}" if rng.random() > 0.05 else f"outside{i}"
        mentions = []
        if rng.random() < 0.3:
            mentions = [actors[j] for j in rng.choice(n_actors, size=rng.integers(1, 4))]
        rows.append((f"e{i}", actor, action, parent, mentions))
    return make_events(rows)


def reference_edges(events: pl.DataFrame) -> dict[tuple[str, str], Counter]:
    """The edge rules, written as a plain loop."""
    edges: dict[tuple[str, str], Counter] = {}
    for row in events.iter_rows(named=True):
        actor, action = row["actor_id"], row["action"]
        pairs = []
        if action in ("reply", "reaction", "share") and row["target_actor_id"] is not None:
            pairs.append((row["target_actor_id"], action))
        if action in ("post", "reply"):
            pairs += [(m, "mention") for m in set(row["mentions"])]
        for target, kind in pairs:
            if target != actor:
                edges.setdefault((actor, target), Counter())[kind] += 1
    return edges


def edge_set(graph: nx.Graph) -> list[tuple]:
    """Undirected edges as sorted (u, v, data) with u < v, to compare graphs."""
    return sorted((*sorted((u, v)), d) for u, v, d in graph.edges(data=True))


def undirected_reference(edges: pl.DataFrame) -> nx.Graph:
    """Full undirected graph with attributes summed over both directions, built by hand."""
    graph = nx.Graph()
    for row in edges.iter_rows(named=True):
        u, v = row["source"], row["target"]
        data = graph.get_edge_data(u, v, default={name: 0 for name in gr._ATTRS})
        graph.add_edge(u, v, **{name: data[name] + row[name] for name in gr._ATTRS})
    return graph


# --------------------------------------------------------------------------- edge list


def test_edge_list_hand_computed(tiny_edges):
    assert tiny_edges.schema == gr.EDGE_SCHEMA
    assert tiny_edges.rows() == TINY_EDGES


def test_interactions_one_row_each(tiny_events, tiny_edges):
    inter = gr.interactions(tiny_events, keep=["event_id"])
    assert isinstance(inter, pl.LazyFrame)
    rows = inter.collect()
    assert rows.schema == pl.Schema(
        {
            "source": pl.String,
            "target": pl.String,
            "kind": gr.INTERACTION_DTYPE,
            "event_id": pl.String,
        }
    )
    assert sorted(rows.rows()) == [
        ("ann", "bob", "mention", "p1"),
        ("ann", "bob", "reply", "r2"),
        ("ann", "cid", "mention", "p1"),
        ("bob", "ann", "mention", "p2"),
        ("bob", "ann", "reply", "r1"),
        ("bob", "ann", "reply", "r5"),
        ("cid", "ann", "reaction", "x1"),
        ("cid", "bob", "reply", "r4"),
        ("dan", "bob", "reaction", "x2"),
        ("dan", "eve", "mention", "o1"),
        ("eve", "ann", "share", "s1"),
        ("fay", "eve", "reaction", "x3"),
    ]
    assert rows.height == tiny_edges.get_column("weight").sum()


def test_edge_list_accepts_lazy_frames(tiny_events, tiny_edges):
    assert gr.edge_list(tiny_events.lazy()).equals(tiny_edges)


def test_edge_list_ignores_row_order(tiny_events, tiny_edges):
    assert gr.edge_list(tiny_events.reverse()).equals(tiny_edges)


def test_edge_list_of_no_events():
    edges = gr.edge_list(ev.empty_events())
    assert edges.height == 0
    assert edges.schema == gr.EDGE_SCHEMA


def test_edge_list_names_missing_columns(tiny_events):
    with pytest.raises(ValueError, match="events lack column.*target_actor_id"):
        gr.edge_list(tiny_events.drop("target_actor_id"))


@pytest.mark.parametrize("seed", [1, 2])
def test_edge_list_matches_plain_loop(seed):
    events = random_tribe(seed)
    edges = gr.edge_list(events)
    expected = reference_edges(events)
    assert edges.select("source", "target").rows() == sorted(expected)
    for row in edges.iter_rows(named=True):
        counts = expected[(row["source"], row["target"])]
        assert {name: row[name] for name in gr.INTERACTIONS} == {
            name: counts[name] for name in gr.INTERACTIONS
        }
        assert row["weight"] == sum(counts.values())


# --------------------------------------------------------------------------- networkx


def test_to_networkx(tiny_edges):
    graph = gr.to_networkx(tiny_edges, actors=["zed", "ann"])
    assert isinstance(graph, nx.DiGraph)
    assert list(graph.nodes) == ["ann", "bob", "cid", "dan", "eve", "fay", "zed"]
    assert list(graph.edges) == [(s, t) for s, t, *_ in TINY_EDGES]
    assert graph.edges["bob", "ann"] == {
        "reply": 2,
        "reaction": 0,
        "share": 0,
        "mention": 1,
        "weight": 3,
    }
    assert all(type(v) is int for _, _, d in graph.edges(data=True) for v in d.values())
    assert graph.degree("zed") == 0


def test_to_networkx_names_missing_columns(tiny_edges):
    with pytest.raises(ValueError, match="edges lack column.*weight"):
        gr.to_networkx(tiny_edges.drop("weight"))


# --------------------------------------------------------------------------- ego networks


def test_ego_network_of_one_leader(tiny_edges):
    ego = gr.ego_networks(tiny_edges, ["ann"])["ann"]
    assert type(ego) is nx.Graph
    assert list(ego.nodes) == ["ann", "bob", "cid", "eve"]
    zero = dict.fromkeys(gr._ATTRS, 0)
    assert {tuple(sorted(e)): d for *e, d in ego.edges(data=True)} == {
        ("ann", "bob"): {**zero, "reply": 3, "mention": 2, "weight": 5},
        ("ann", "cid"): {**zero, "reaction": 1, "mention": 1, "weight": 2},
        ("ann", "eve"): {**zero, "share": 1, "weight": 1},
        ("bob", "cid"): {**zero, "reply": 1, "weight": 1},
    }


@pytest.mark.parametrize(
    ("leader", "radius", "nodes"),
    [
        ("fay", 0, ["fay"]),
        ("fay", 1, ["eve", "fay"]),
        ("fay", 2, ["ann", "dan", "eve", "fay"]),
        ("zed", 1, ["zed"]),
    ],
)
def test_ego_network_radius(tiny_edges, leader, radius, nodes):
    ego = gr.ego_networks(tiny_edges, [leader], radius=radius)[leader]
    assert list(ego.nodes) == nodes
    full = undirected_reference(tiny_edges)
    if leader in full:
        expected = nx.ego_graph(full, leader, radius=radius)
        assert edge_set(ego) == edge_set(expected)


def test_ego_networks_checks_arguments(tiny_edges):
    with pytest.raises(ValueError, match="radius must be 0 or more, got -1"):
        gr.ego_networks(tiny_edges, ["ann"], radius=-1)
    with pytest.raises(TypeError, match="not the string 'ann'"):
        gr.ego_networks(tiny_edges, "ann")


# --------------------------------------------------------------------------- ego measures

# leader: (ego_size, density, effective size, weighted constraint, unweighted constraint)
HAND = {
    # alters bob, cid, eve; one tie among them (bob-cid); strengths ann-bob 5, ann-cid 2, ann-eve 1
    "ann": (3, Fraction(1, 3), Fraction(7, 3), Fraction(1481, 2304), Fraction(11, 18)),
    # alters bob, eve, no tie between them, one interaction each
    "dan": (2, Fraction(0), Fraction(2), Fraction(1, 2), Fraction(1, 2)),
    # one alter (eve): density and clustering undefined
    "fay": (1, None, Fraction(1), Fraction(1), Fraction(1)),
    # no edges at all
    "zed": (0, None, None, None, None),
}


@pytest.mark.parametrize("leader", list(HAND))
@pytest.mark.parametrize("weight", ["weight", None])
def test_ego_measures_hand_computed(tiny_edges, leader, weight):
    size, density, effective, weighted, unweighted = HAND[leader]
    row = gr.ego_measures(tiny_edges, [leader], weight=weight).row(0, named=True)
    constraint = weighted if weight else unweighted

    def value(x):
        return None if x is None else pytest.approx(float(x), rel=1e-15)

    assert row == {
        "leader_id": leader,
        "ego_size": size,
        "ego_density": value(density),
        "ego_clustering": value(density),
        "ego_effective_size": value(effective),
        "ego_constraint": value(constraint),
    }


def test_ego_measures_frame_shape(tiny_edges):
    measures = gr.ego_measures(tiny_edges, ["zed", "ann", "zed", "fay"])
    assert measures.schema == gr.MEASURE_SCHEMA
    assert measures.get_column("leader_id").to_list() == ["zed", "ann", "fay"]
    assert measures.row(0) == ("zed", 0, None, None, None, None)


def test_ego_measures_with_no_edges_at_all():
    edges = pl.DataFrame(schema=gr.EDGE_SCHEMA)
    assert gr.ego_measures(edges, ["ann"]).rows() == [("ann", 0, None, None, None, None)]
    assert gr.ego_measures(edges, []).schema == gr.MEASURE_SCHEMA
    assert list(gr.ego_networks(edges, ["ann"])["ann"].nodes) == ["ann"]


def test_ego_measures_checks_arguments(tiny_edges):
    with pytest.raises(TypeError, match="not the string 'ann'"):
        gr.ego_measures(tiny_edges, "ann")
    with pytest.raises(ValueError, match="edges lack column.*strength"):
        gr.ego_measures(tiny_edges, ["ann"], weight="strength")


@pytest.fixture(scope="module", params=[3, 4])
def random_case(request):
    edges = gr.edge_list(random_tribe(request.param, n_actors=25, n_events=400))
    full = undirected_reference(edges)
    by_degree = sorted(full, key=lambda n: (-full.degree(n), n))
    leaders = by_degree[:4] + by_degree[-3:] + ["nobody"]
    return edges, full, leaders


def test_ego_measures_match_networkx(random_case):
    edges, full, leaders = random_case
    weighted = gr.ego_measures(edges, leaders)
    unweighted = gr.ego_measures(edges, leaders, weight=None)
    assert weighted.get_column("leader_id").to_list() == leaders
    for row, plain in zip(
        weighted.iter_rows(named=True), unweighted.iter_rows(named=True), strict=True
    ):
        leader = row["leader_id"]
        if leader not in full:
            assert row == {**dict.fromkeys(row, None), "leader_id": leader, "ego_size": 0}
            continue
        ego = nx.ego_graph(full, leader)
        alters = ego.subgraph(set(ego) - {leader})
        assert row["ego_size"] == len(alters)
        if len(alters) >= 2:
            assert row["ego_density"] == pytest.approx(nx.density(alters), rel=1e-12)
            assert row["ego_clustering"] == pytest.approx(nx.clustering(full, leader), rel=1e-12)
        else:
            assert row["ego_density"] is None and row["ego_clustering"] is None
        effective = nx.effective_size(full, [leader])[leader]
        assert row["ego_effective_size"] == pytest.approx(effective, rel=1e-12)
        constraint = nx.constraint(ego, [leader], weight="weight")[leader]
        assert row["ego_constraint"] == pytest.approx(constraint, rel=1e-12)
        assert plain["ego_constraint"] == pytest.approx(
            nx.constraint(ego, [leader])[leader], rel=1e-12
        )


def test_ego_networks_match_networkx(random_case):
    edges, full, leaders = random_case
    egos = gr.ego_networks(edges, leaders)
    assert list(egos) == leaders
    for leader, ego in egos.items():
        if leader not in full:
            assert list(ego.nodes) == [leader] and ego.number_of_edges() == 0
            continue
        expected = nx.ego_graph(full, leader)
        assert list(ego.nodes) == sorted(expected.nodes)
        assert edge_set(ego) == edge_set(expected)


@pytest.mark.parametrize("max_alters", [0, 1, 3])
def test_ego_networks_cut_to_the_strongest_alters(random_case, max_alters):
    edges, _, leaders = random_case
    whole = gr.ego_networks(edges, leaders)
    cut = gr.ego_networks(edges, leaders, max_alters=max_alters)
    assert list(cut) == leaders
    for leader, ego in whole.items():
        ranked = sorted(ego.neighbors(leader), key=lambda a: (-ego[leader][a]["weight"], a))
        expected = ego.subgraph([leader, *ranked[:max_alters]])
        assert sorted(cut[leader].nodes) == sorted(expected.nodes)
        assert edge_set(cut[leader]) == edge_set(expected)
        assert cut[leader].graph["alters"] == ego.degree(leader)
        for u, v, data in cut[leader].edges(data=True):
            assert data == ego[u][v]


def test_ego_networks_cut_needs_radius_one(tiny_edges):
    with pytest.raises(ValueError, match="max_alters needs radius 1"):
        gr.ego_networks(tiny_edges, ["ann"], radius=2, max_alters=3)
    with pytest.raises(ValueError, match="max_alters needs radius 1"):
        gr.ego_networks(tiny_edges, ["ann"], max_alters=-1)


def test_ego_measures_do_not_depend_on_the_other_leaders(random_case):
    edges, _, leaders = random_case
    together = gr.ego_measures(edges, leaders)
    assert gr.ego_measures(edges, leaders).equals(together)
    for i, leader in enumerate(leaders):
        assert gr.ego_measures(edges, [leader]).row(0) == together.row(i)


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize(
    ("suffix", "read"), [(".graphml", nx.read_graphml), (".gexf", nx.read_gexf)]
)
def test_write_graph_round_trip(tmp_path, tiny_edges, suffix, read):
    graph = gr.to_networkx(tiny_edges, actors=["zed"])
    path = gr.write_graph(graph, tmp_path / f"tribe{suffix}")
    assert path == tmp_path / f"tribe{suffix}"
    back = read(path)
    assert back.is_directed()
    assert sorted(back.nodes) == sorted(graph.nodes)
    assert sorted(back.edges) == sorted(graph.edges)
    for u, v, data in graph.edges(data=True):
        got = back.edges[u, v]
        assert {name: got[name] for name in gr._ATTRS} == data
        assert all(isinstance(got[name], int | float) for name in gr._ATTRS)


@pytest.mark.parametrize("suffix", [".graphml", ".gexf"])
def test_write_graph_is_byte_identical(tmp_path, tiny_edges, monkeypatch, suffix):
    first = gr.write_graph(gr.to_networkx(tiny_edges), tmp_path / f"a{suffix}").read_bytes()
    monkeypatch.setattr(time, "strftime", lambda *args: "1999-12-31")  # another day
    second = gr.write_graph(gr.to_networkx(tiny_edges), tmp_path / f"b{suffix}").read_bytes()
    assert first == second
    assert b"lastmodifieddate" not in first


def test_write_graph_ego_network(tmp_path, tiny_edges):
    ego = gr.ego_networks(tiny_edges, ["ann"])["ann"]
    back = nx.read_graphml(gr.write_graph(ego, tmp_path / "ann.graphml"))
    assert not back.is_directed()
    assert back.edges["ann", "bob"]["weight"] == 5


@pytest.mark.parametrize("name", ["tribe.csv", "tribe", "tribe.GEXF.gz"])
def test_write_graph_rejects_unknown_suffix(tmp_path, tiny_edges, name):
    with pytest.raises(
        ValueError, match=r"unknown graph file type .* \(expected one of \.graphml, \.gexf\)"
    ):
        gr.write_graph(gr.to_networkx(tiny_edges), tmp_path / name)
    assert not (tmp_path / name).exists()
